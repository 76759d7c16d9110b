"""`Caller`: what the tenant and scope resolvers read of whoever is calling, over HTTP or a WebSocket.

An HTTP call reaches them as DRF's `Request`, a WebSocket as `apps.jobs.socket_auth.SocketRequest`. The resolvers
named in TESSERA_API (`TENANT_RESOLVER`, `SCOPE_RESOLVER`) serve both, so they are typed by what the two share
rather than by either class (the generator cannot import the app that defines sockets).
"""
from collections.abc import Mapping
from typing import Any, Protocol


class Caller(Protocol):
    @property
    def user(self) -> Any:
        """The signed-in user (AUTH_USER_MODEL), or AnonymousUser."""

    @property
    def auth(self) -> Any:
        """What authenticated the call: an access token, an API key, or None (a session)."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The request's headers; a socket's, plus `X-Tenant-ID` taken from `?tenant=`."""

    #: The caller's role in the active tenant, set once the tenant resolver has chosen it (None: no membership).
    tenant_role: str | None
