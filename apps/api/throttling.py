"""Rate limits, counted in the shared cache so every process sees one count.

A request is counted against every limit that applies to it, and refused (429) by the first one it
exceeds: anonymous traffic per client address; authenticated traffic per user or API key; the
resource's own rates (for the whole resource, or per action); the tenant's rate; and whatever extra
limits a view declares. Sign-in attempts per email and per address are counted by the sign-in service
(accounts.services.credentials_check) with `count`, so every way to present a password meets them. When the cache is
unreachable, views that authenticate fail closed (503); every other view fails open and logs it.

The request path counts through `RequestRoundTrip`, which sends a request's counters in the same Redis
pipeline as the credential reads its authenticator makes: one round trip per request
(apps/platform/shared_cache.py). The counters are django-ratelimit's fixed windows (the sign-in service
still counts with django-ratelimit itself).
"""
import hashlib
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.platform.client_ip import client_ip

from .conf import api_settings
from .errors import Unavailable
from .rates import rate_parts
from apps.platform.shared_cache import HashRead, HashValues, SharedCache

logger = logging.getLogger("tessera.ratelimit")
#: Seconds a counter outlives its window (django-ratelimit's EXPIRATION_FUDGE).
COUNTER_EXPIRY_FUDGE = 5


@dataclass(frozen=True)
class Limit:
    """`rate` requests per window for one `who` within one `group` of requests; a request counts `weight` times (a
    bulk write, as many as the writes it carries)."""

    group: str
    who: str
    rate: str
    weight: int = 1

    def counter(self, now: int) -> tuple[str, int, int, int]:
        """(cache key name, limit, window end, expiry) of this limit's counter at time `now`.

        django-ratelimit's fixed windows: they start at the epoch, shifted by a jitter drawn from `who` so not
        every counter resets at the same second; each (group, rate, who, window) has a counter of its own, which
        lives a few seconds past its window so a late increment never lands on a missing key.
        """
        limit, seconds = rate_parts(self.rate)
        window = now if seconds == 1 else now - now % seconds + zlib.crc32(self.who.encode()) % seconds
        if window < now:
            window += seconds
        digest = hashlib.sha256(f"{self.group}{limit}/{seconds}s{self.who}{window}".encode()).hexdigest()
        return f"rl:{digest}", limit, window, seconds + COUNTER_EXPIRY_FUDGE


def principal(request: Request) -> str:
    """Who an authenticated request is counted as: the API key when it used one, else the user."""
    prefix = getattr(request.auth, "prefix", None)
    return f"key:{prefix}" if prefix else f"user:{request.user.pk}"


def limits_for(request: Request, view: APIView, *, presumed: str | None = None) -> list[Limit]:
    """Every limit that applies to this request, most general first.

    `presumed` names the principal (`principal`'s form) that the request's credentials claim before they are
    checked: the limits it would meet, so their counters can travel with the credential reads.
    """
    if not (presumed or request.user.is_authenticated):
        limits = [Limit("anonymous", f"ip:{client_ip(request)}", api_settings.ANON_THROTTLE)]
    else:
        who = presumed or principal(request)
        # Presumed counts are one each: the body that says what a bulk weighs is read once the caller is known.
        def weight(group: str) -> int:
            return 1 if presumed else view.rate_weight(request, group)

        limits = [Limit("authenticated", who, api_settings.DEFAULT_THROTTLE, weight("authenticated"))]
        limits += [Limit(group, who, rate, weight(group)) for group, rate in view.declared_rates()]
        tenant = None if presumed else getattr(request, "tenant", None)
        if tenant is not None and tenant.rate_limit:
            limits.append(Limit("tenant", f"tenant:{tenant.pk}", tenant.rate_limit, weight("tenant")))
    limits += view.extra_limits(request)
    return [limit for limit in limits if limit.rate and limit.weight] if counting_enabled() else []


def counting_enabled() -> bool:
    """RATELIMIT_ENABLE (django-ratelimit's switch) turns every limit off, the request path's too."""
    return getattr(settings, "RATELIMIT_ENABLE", True)


class RequestRoundTrip:
    """What one request asks of the shared cache, sent as one pipeline: its counters and its credential reads.

    The authenticator knows from the credentials alone (a JWT's user claim, an API key's prefix) whom they claim
    to be, and calls `read` with the cached state it needs: the counters of every limit that principal meets go
    into the same pipeline. When the throttle runs, those counts are ready. Should the credentials fail, or the
    request turn out to meet other limits (its tenant's own rate, known only once the tenant is read), `count`
    settles the difference in one more round trip: it gives back what was counted for nothing, so every limit
    counts exactly the requests that meet it, as when each was counted on its own.
    """

    def __init__(self, request: Request, view: APIView) -> None:
        self.request, self.view = request, view
        #: Usage of each limit counted so far, and the counter it was counted on (to give it back exactly there).
        self.counted: dict[Limit, dict[str, Any]] = {}
        self.counters: dict[Limit, str] = {}
        self.failure: Exception | None = None

    def read(self, reads: Sequence[HashRead], *, presumed: str) -> list[HashValues] | None:
        """`reads` from the shared cache, and the counters of `presumed`'s limits in the same round trip; None
        when the cache is unreachable (the caller reads the database; the throttle reports the outage)."""
        limits = limits_for(self.request, self.view, presumed=presumed)
        try:
            found, _ = self._exchange(reads, limits)
        except Exception as error:  # the cache backend's own connection errors; redis-py and others differ
            self.failure = error
            return None
        return found

    def count(self, limits: Sequence[Limit], *, fail_closed: bool) -> list[dict[str, Any] | None]:
        """Usage of each of `limits`, counting those not counted yet and giving back counts of limits that did not
        apply after all; None for each when the store is down and `fail_closed` is False (with it, Unavailable).
        """
        missing = [limit for limit in limits if limit not in self.counted]
        stray = [limit for limit in self.counted if limit not in limits]
        if (missing or stray) and self.failure is None:
            try:
                self._exchange((), missing, give_back=stray)
            except Exception as error:  # as in `read`
                self.failure = error
        if self.failure is not None:
            _report_outage(self.failure, fail_closed=fail_closed)
            return [None] * len(limits)
        return [self.counted[limit] for limit in limits]

    def give_back(self, limits: Sequence[Limit]) -> None:
        """Take back the count of `limits`: they were counted together with one that refused the request, which
        ends it before they are reached (each limit counts only the requests that get as far as it)."""
        if not limits:
            return
        try:
            self._exchange((), (), give_back=limits)
        except Exception:  # counted one too many at worst; the outage shows on the next request
            logger.warning("Could not give back the counts of a refused request", exc_info=True)

    def _exchange(self, reads: Sequence[HashRead], limits: Sequence[Limit], *, give_back: Sequence[Limit] = ()):
        now = int(time.time())
        counters = [limit.counter(now) for limit in limits]
        found, counts = SharedCache().exchange(
            reads=reads, counts=[(name, expiry, limit.weight) for limit, (name, _, _, expiry) in zip(limits, counters)],
            uncounts=[(self.counters.pop(limit), limit.weight) for limit in give_back])
        for limit in give_back:
            del self.counted[limit]
        for limit, number, (name, most, window, _) in zip(limits, counts, counters, strict=True):
            self.counters[limit] = name
            self.counted[limit] = {"count": number, "limit": most, "should_limit": number > most,
                                   "time_left": window - now}
        return found, counts


def _report_outage(error: Exception, *, fail_closed: bool) -> None:
    logger.error("Rate limit store unreachable; %s", "refusing" if fail_closed else "allowing", exc_info=error)
    if fail_closed:
        raise Unavailable("Rate limiting is unavailable, so sign-in is paused. Try again shortly.") from None


class RateLimitThrottle(BaseThrottle):
    """DRF throttle over `limits_for`; it leaves the tightest usage on the request for the X-RateLimit headers."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        round_trip = getattr(request, "round_trip", None) or RequestRoundTrip(request, view)
        limits = limits_for(request, view)
        usages = round_trip.count(limits, fail_closed=view.rate_limit_fail_closed)
        tightest = None
        for number, usage in enumerate(usages):
            if usage is None:
                continue
            remaining = usage["limit"] - usage["count"]
            if tightest is None or remaining < tightest["limit"] - tightest["count"]:
                tightest = usage
            if usage["should_limit"]:
                round_trip.give_back(limits[number + 1:])
                request.rate_limit_usage = usage
                self.time_left = max(usage["time_left"], 1)
                return False
        request.rate_limit_usage = tightest
        return True

    def wait(self) -> int:
        return self.time_left


def count(request: HttpRequest | Request, limit: Limit, *, fail_closed: bool) -> dict[str, Any] | None:
    """Count `request` against `limit`: django-ratelimit's usage dict, or None when the store is down and
    `fail_closed` is False (with it, Unavailable). Also the sign-in service's counter (accounts.services)."""
    try:
        return get_usage(request, group=limit.group, key=lambda group, request: limit.who, rate=limit.rate,
                         increment=True)
    except Exception as error:  # the cache backend's own connection errors; redis-py and others differ
        _report_outage(error, fail_closed=fail_closed)
        return None
