"""Who a WebSocket is: a JWT (`?token=` or `Authorization: Bearer`), an `X-API-Key` header, or the Django session.

The result is a request-like object that the tenant resolver and the scoping chokepoint accept, so a
socket sees exactly the jobs the same caller sees over HTTP.
"""
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts.authentication import BearerTokenAuthentication, authenticate_api_key


class SocketRequest:
    """The parts of an HTTP request that tenant resolution, scopes and scoping read."""

    def __init__(self, *, user, auth, headers: dict, client: str, path: str):
        self.user, self.auth, self.headers, self.path = user, auth, headers, path
        self.META = {"REMOTE_ADDR": client}
        self._request = self
        self.tenant = self.tenant_role = None
        self.scopes = frozenset()


def _headers(scope) -> dict:
    return {name.decode("latin1").title(): value.decode("latin1") for name, value in scope.get("headers", [])}


def _origin_allowed(headers: dict) -> bool:
    """Session sockets only: a page of another site must not ride the user's cookie (cross-site hijacking)."""
    origin = urlsplit(headers.get("Origin", "")).hostname
    return bool(origin) and validate_host(origin, settings.ALLOWED_HOSTS)


def authenticate_socket(scope) -> SocketRequest:
    headers = _headers(scope)
    query = parse_qs(scope.get("query_string", b"").decode())
    # The tenant resolver reads X-Tenant-ID; browsers cannot set headers on a WebSocket, so ?tenant= works too.
    headers["X-Tenant-ID"] = query.get("tenant", [headers.get("X-Tenant-Id", "")])[0]
    client = (scope.get("client") or ["", 0])[0]
    token = query.get("token", [""])[0] or headers.get("Authorization", "").removeprefix("Bearer ").strip()
    api_key = headers.get("X-Api-Key", "")
    user, auth = AnonymousUser(), None
    try:
        if token:
            authentication = BearerTokenAuthentication()
            auth = authentication.get_validated_token(token)
            user = authentication.get_user(auth)
        elif api_key:
            auth = authenticate_api_key(api_key)
            user = auth.user
        elif getattr(scope.get("user"), "is_authenticated", False) and _origin_allowed(headers):
            user = scope["user"]
    except AuthenticationFailed:  # a bad, expired or revoked credential: the socket is not authenticated
        user, auth = AnonymousUser(), None
    return SocketRequest(user=user, auth=auth, headers=headers, client=client, path=scope.get("path", ""))


class SocketAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope, request=await database_sync_to_async(authenticate_socket)(scope))
        return await super().__call__(scope, receive, send)


def socket_auth_stack(inner):
    """Session first (for the admin and the watch page), then tokens and keys."""
    return AuthMiddlewareStack(SocketAuthMiddleware(inner))
