"""Rate limits, counted in the shared cache by django-ratelimit's core, so every process sees one count.

A request is counted against every limit that applies to it, and refused (429) by the first one it
exceeds: anonymous traffic per client address; authenticated traffic per user or API key; the
resource's own rates (for the whole resource, or per action); the tenant's rate; and whatever extra
limits a view declares. Sign-in attempts per email and per address are counted by the sign-in service
(accounts.services.credentials_check) with `count`, so every way to present a password meets them. When the cache is
unreachable, views that authenticate fail closed (503); every other view fails open and logs it.
"""
import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.platform.client_ip import client_ip

from .conf import api_settings
from .errors import Unavailable

logger = logging.getLogger("tessera.ratelimit")


@dataclass(frozen=True)
class Limit:
    """`rate` requests per window for one `who` within one `group` of requests."""

    group: str
    who: str
    rate: str


def principal(request: Request) -> str:
    """Who an authenticated request is counted as: the API key when it used one, else the user."""
    prefix = getattr(request.auth, "prefix", None)
    return f"key:{prefix}" if prefix else f"user:{request.user.pk}"


def limits_for(request: Request, view: APIView) -> list[Limit]:
    """Every limit that applies to this request, most general first."""
    if not request.user.is_authenticated:
        limits = [Limit("anonymous", f"ip:{client_ip(request)}", api_settings.ANON_THROTTLE)]
    else:
        limits = [Limit("authenticated", principal(request), api_settings.DEFAULT_THROTTLE)]
        limits += [Limit(group, principal(request), rate) for group, rate in view.declared_rates()]
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.rate_limit:
            limits.append(Limit("tenant", f"tenant:{tenant.pk}", tenant.rate_limit))
    limits += view.extra_limits(request)
    return [limit for limit in limits if limit.rate]


class RateLimitThrottle(BaseThrottle):
    """DRF throttle over `limits_for`; it leaves the tightest usage on the request for the X-RateLimit headers."""

    def allow_request(self, request, view):
        tightest = None
        for limit in limits_for(request, view):
            usage = self._count(request, limit, fail_closed=view.rate_limit_fail_closed)
            if usage is None:
                continue
            remaining = usage["limit"] - usage["count"]
            if tightest is None or remaining < tightest["limit"] - tightest["count"]:
                tightest = usage
            if usage["should_limit"]:
                request.rate_limit_usage = usage
                self.time_left = max(usage["time_left"], 1)
                return False
        request.rate_limit_usage = tightest
        return True

    def wait(self):
        return self.time_left

    @staticmethod
    def _count(request, limit: Limit, *, fail_closed: bool):
        return count(request, limit, fail_closed=fail_closed)


def count(request: HttpRequest | Request, limit: Limit, *, fail_closed: bool) -> dict[str, Any] | None:
    """Count `request` against `limit`: django-ratelimit's usage dict, or None when the store is down and
    `fail_closed` is False (with it, Unavailable). Also the sign-in service's counter (accounts.services)."""
    try:
        return get_usage(request, group=limit.group, key=lambda group, request: limit.who, rate=limit.rate,
                         increment=True)
    except Exception:  # the cache backend's own connection errors; redis-py and others differ
        logger.error("Rate limit store unreachable; %s", "refusing" if fail_closed else "allowing", exc_info=True)
        if fail_closed:
            raise Unavailable("Rate limiting is unavailable, so sign-in is paused. Try again shortly.") from None
        return None
