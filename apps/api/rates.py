"""Request rates such as "100/m": the one format every limit in Tessera uses (django-ratelimit's)."""
import re

from django.core.exceptions import ValidationError

#: A count per period: s, m, h or d (or sec, min, hour, day), optionally with a multiple ("100/5m").
RATE_PATTERN = re.compile(r"^\d+/\d*(s|sec|m|min|h|hour|d|day)$")


def is_rate(value: object) -> bool:
    return isinstance(value, str) and bool(RATE_PATTERN.match(value))


def rates_of(declared: str | tuple | list | None) -> tuple[str, ...]:
    """A declaration's rates: none, one ("100/m") or several at once (("60/m", "1000/h"))."""
    if not declared:
        return ()
    return (declared,) if isinstance(declared, str) else tuple(declared)


def validate_rate(value: str) -> None:
    """Model and serializer validator: blank means "no limit", anything else must be a rate."""
    if value and not is_rate(value):
        raise ValidationError(f'"{value}" is not a rate; write it like "100/m" or "5000/h".')


_RATE_PARTS = re.compile(r"^(\d+)/(\d*)([smhd])")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


def rate_parts(rate: str) -> tuple[int, int]:
    """(requests, seconds) of a rate: "100/m" is (100, 60), "100/5m" is (100, 300); read as django-ratelimit
    reads it, so the limits it counts (sign-in) and the ones the request path counts mean the same."""
    count, multiple, unit = _RATE_PARTS.match(rate).groups()
    return int(count), _PERIOD_SECONDS[unit] * int(multiple or 1)
