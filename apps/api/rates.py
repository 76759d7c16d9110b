"""Request rates such as "100/m": the one format every limit in Tessera uses (django-ratelimit's)."""
import re

from django.core.exceptions import ValidationError

#: A count per period: s, m, h or d (or sec, min, hour, day), optionally with a multiple ("100/5m").
RATE_PATTERN = re.compile(r"^\d+/\d*(s|sec|m|min|h|hour|d|day)$")


def is_rate(value: object) -> bool:
    return isinstance(value, str) and bool(RATE_PATTERN.match(value))


def validate_rate(value: str) -> None:
    """Model and serializer validator: blank means "no limit", anything else must be a rate."""
    if value and not is_rate(value):
        raise ValidationError(f'"{value}" is not a rate; write it like "100/m" or "5000/h".')
