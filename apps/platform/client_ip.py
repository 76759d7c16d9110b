"""`client_ip(request)`: the one answer to "who is calling", shared by rate limits, request logs and the audit trail.

`X-Forwarded-For` is written by whoever sent the request, so it is trusted only as far as the deployment
says: `settings.TRUSTED_PROXY_COUNT` is how many reverse proxies of our own stand in front of the app.
Each proxy appends the address it received the connection from, so with N proxies the client is the Nth
entry from the right; everything to its left is whatever the client chose to send. With 0 (the default)
the header is ignored and `REMOTE_ADDR` is the answer, so a forged header never moves a client to
another rate-limit bucket or puts a fake address into the audit log.

It is a flat Django setting, like Django's own `SECURE_PROXY_SSL_HEADER` and `USE_X_FORWARDED_HOST`: it
describes the deployment's network, not the generator, and the rate limiter, logs and audit all read it.
"""
import ipaddress
from collections.abc import Mapping
from typing import Any, Protocol

from django.conf import settings


class MetaCarrier(Protocol):
    """A Django or DRF request, or a socket's `SocketRequest`: anything with Django's `META`."""

    @property
    def META(self) -> Mapping[str, Any]: ...


def client_ip(request: MetaCarrier) -> str:
    """The address of the client behind `request` (a Django or DRF request); "" when none is known."""
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < trusted:
        # Fewer hops than proxies: the request did not come through all of them, so none of the entries
        # is vouched for (Werkzeug's ProxyFix makes the same call).
        return remote
    return _valid(forwarded[-trusted]) or remote


def _valid(address: str) -> str:
    """`address` when it is an IP address, else "": a header value never reaches a log line or cache key raw."""
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""
