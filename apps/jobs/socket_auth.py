"""Who a WebSocket is: a JWT, a one-time ticket, an `X-API-Key` header, or the Django session.

A JWT comes in the `tessera.bearer` subprotocol (`new WebSocket(url, ["tessera.bearer", token])`, which a
browser can send), an `Authorization: Bearer` header, or `?token=` (kept for older clients; no log line
carries a query string). A ticket from POST /api/v1/auth/ws-ticket comes as `?ticket=` and works once.

The result is a `SocketRequest`, from which the consumers build the same `AccessContext` an HTTP request gives
the scoping chokepoint, so a socket sees exactly the jobs the same caller sees over HTTP.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from asgiref.typing import ASGIApplication, ASGIReceiveCallable, ASGISendCallable, Scope
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts.authentication import BearerTokenAuthentication, authenticate_api_key
from apps.accounts.services import socket_ticket_redeem

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework_simplejwt.tokens import Token

    from apps.accounts.models import ApiKey
    from apps.accounts.services import SocketTicket

#: The subprotocol that carries an access token as the protocol named after it. The server answers with this
#: one alone (never echoing the token), as a browser requires an answer from the protocols it offered.
BEARER_SUBPROTOCOL = "tessera.bearer"


class SocketRequest:
    """Who a socket is (an `apps.api.scoping.CallerRequest`: user, auth, headers, path, the client's address),
    and the tenant and scopes the consumer resolves for it (a `ScopedRequest` for the scoping chokepoint)."""

    def __init__(self, *, user: AbstractBaseUser | AnonymousUser, auth: Token | ApiKey | SocketTicket | None,
                 headers: dict[str, str], client: str, path: str,
                 subprotocol: str | None = None) -> None:
        self.user, self.auth, self.headers, self.path = user, auth, headers, path
        #: The subprotocol the socket must be accepted with, if the client offered ours.
        self.subprotocol = subprotocol
        #: Where `apps.platform.client_ip` reads a caller's address; X-Forwarded-For too, so that behind our own
        #: proxies (make serve's nginx) a socket's caller is the address it picks, as for an HTTP request.
        self.META = {"REMOTE_ADDR": client, "HTTP_X_FORWARDED_FOR": headers.get("X-Forwarded-For", "")}
        self.tenant = self.tenant_role = None
        self.scopes: frozenset[str] = frozenset()


def _headers(scope) -> dict:
    return {name.decode("latin1").title(): value.decode("latin1") for name, value in scope.get("headers", [])}


def _origin_allowed(headers: dict) -> bool:
    """Session sockets only: a page of another site must not ride the user's cookie (cross-site hijacking)."""
    origin = urlsplit(headers.get("Origin", "")).hostname
    return bool(origin) and validate_host(origin, settings.ALLOWED_HOSTS)


def _subprotocol_token(scope) -> str:
    """The token offered as `[BEARER_SUBPROTOCOL, token]`, or ""."""
    offered = scope.get("subprotocols") or []
    return offered[1] if len(offered) >= 2 and offered[0] == BEARER_SUBPROTOCOL else ""


def authenticate_socket(scope: Scope) -> SocketRequest:
    headers = _headers(scope)
    query = parse_qs(scope.get("query_string", b"").decode())
    # The tenant resolver reads X-Tenant-ID; browsers cannot set headers on a WebSocket, so ?tenant= works too.
    headers["X-Tenant-ID"] = query.get("tenant", [headers.get("X-Tenant-Id", "")])[0]
    client = (scope.get("client") or ["", 0])[0]
    subprotocol_token = _subprotocol_token(scope)
    token = (subprotocol_token or query.get("token", [""])[0]
             or headers.get("Authorization", "").removeprefix("Bearer ").strip())
    ticket = query.get("ticket", [""])[0]
    api_key = headers.get("X-Api-Key", "")
    user, auth = AnonymousUser(), None
    try:
        if token:
            authentication = BearerTokenAuthentication()
            auth = authentication.get_validated_token(token)
            user = authentication.get_user(auth)
        elif ticket:
            user, auth = socket_ticket_redeem(ticket) or (AnonymousUser(), None)
        elif api_key:
            auth = authenticate_api_key(api_key)
            user = auth.user
        elif getattr(scope.get("user"), "is_authenticated", False) and _origin_allowed(headers):
            user = scope["user"]
    except AuthenticationFailed:  # a bad, expired or revoked credential: the socket is not authenticated
        user, auth = AnonymousUser(), None
    return SocketRequest(user=user, auth=auth, headers=headers, client=client, path=scope.get("path", ""),
                         subprotocol=BEARER_SUBPROTOCOL if subprotocol_token else None)


class SocketAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        scope = dict(scope, request=await database_sync_to_async(authenticate_socket)(scope))
        return await super().__call__(scope, receive, send)


def socket_auth_stack(inner: ASGIApplication) -> ASGIApplication:
    """Session first (for the admin and the watch page), then tokens and keys."""
    return AuthMiddlewareStack(SocketAuthMiddleware(inner))
