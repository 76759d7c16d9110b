"""How a request proves who it is: a JWT bearer token, an X-API-Key header, or a client application's OAuth2 token."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.platform import caller_cache

from . import auth_cache
from .models import ApiKey, TokenFamily, User

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from rest_framework.request import Request
    from rest_framework_simplejwt.tokens import Token

API_KEY_HEADER = "X-API-Key"
#: last_used_at is written at most this often per key, so a busy key does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY_MESSAGE = "Invalid API key."


#: The claim naming the sign-in (TokenFamily) a refresh or access token belongs to.
FAMILY_CLAIM = "family"


def token_family_id(token: Token | Mapping[str, Any]) -> uuid.UUID | None:
    """The TokenFamily id a token (or its payload) names, or None when it names none (a token issued elsewhere)."""
    try:
        return uuid.UUID(str(token.get(FAMILY_CLAIM)))
    except ValueError:
        return None


class BearerTokenAuthentication(JWTAuthentication):
    """`Authorization: Bearer <access>`. Tokens of inactive users, tokens older than a password change and tokens
    of a sign-in that has ended (logout, refresh reuse, password change, deactivation) fail.

    The user and whether the sign-in is live are read from the shared cache (auth_cache), which every change to
    them clears in every process at once; on a miss, from the database in one query, which fills the cache.
    """

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.get_user(validated_token, request=request), validated_token

    def get_user(self, validated_token: Token, request: Request | None = None) -> User:
        try:
            user_id = int(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise exceptions.AuthenticationFailed("User not found.", code="user_not_found") from None
        family = token_family_id(validated_token)
        state = caller_cache.state_read(request, name=auth_cache.user_hash(user_id), presumed=f"user:{user_id}",
                                        fields=["user", auth_cache.family_field(family)])
        user, password_claim, signed_in = _signed_in_user(state, user_id, family)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != password_claim:
            raise exceptions.AuthenticationFailed("The user's password has been changed.", code="password_changed")
        if family is None or not signed_in:
            raise exceptions.AuthenticationFailed("This session has ended; sign in again.", code="session_ended")
        return user


def _signed_in_user(state: caller_cache.CachedState, user_id: int, family) -> tuple[User, str, bool]:
    """(user, the password claim its tokens must carry, whether sign-in `family` is live): cached, else read in
    one query and cached (only a live sign-in is: an ended one never comes back, and the cache holds only what
    lets a request in)."""
    cached_user, live = state.get("user"), state.get(auth_cache.family_field(family))
    if cached_user is not None and live is not None:
        user, password_claim = caller_cache.from_snapshot(User, cached_user)
        return user, password_claim, True
    live_family = TokenFamily.objects.filter(pk=family, user=OuterRef("pk"), revoked_at__isnull=True)
    try:
        user = User.objects.annotate(signed_in=Exists(live_family)).get(pk=user_id)
    except User.DoesNotExist:
        raise exceptions.AuthenticationFailed("User not found.", code="user_not_found") from None
    password_claim = get_md5_hash_password(user.password)
    fields = {"user": caller_cache.snapshot(user, exclude=auth_cache.USER_DEFERRED, extra=password_claim)}
    if user.signed_in:
        fields[auth_cache.family_field(family)] = b"1"
    state.store(fields)
    return user, password_claim, user.signed_in


def key_digest(secret: str) -> str:
    """SHA-256 of a key: keys are long random strings, so a fast digest is safe and makes lookups cheap."""
    return hashlib.sha256(secret.encode()).hexdigest()


def key_prefix(secret: str) -> str | None:
    """The public prefix of a key shaped `tsk_<prefix>_<secret>`, or None when it has another shape."""
    parts = secret.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "tsk" and parts[1] else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`X-API-Key: <key>`. Revoked, expired or unknown keys, and keys of inactive users, are a 401."""

    #: Tells the generator the caller is a program holding a key, not the person (`permissions.signed_in_with_key`).
    api_key = True

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        secret = request.headers.get(API_KEY_HEADER)
        if not secret:
            return None
        key = authenticate_api_key(secret, request=request)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return API_KEY_HEADER


def authenticate_api_key(secret: str, *, request: Request | None = None) -> ApiKey:
    """The usable key behind `secret`, or AuthenticationFailed. Shared by HTTP and WebSocket authentication.

    The key and its owner are read from the shared cache under the secret's digest (auth_cache), else from the
    database, which fills it. Its last use is written at most once a minute (LAST_USED_RESOLUTION).
    """
    prefix = key_prefix(secret)
    if prefix is None:
        raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
    digest = key_digest(secret)
    state = caller_cache.state_read(request, name=auth_cache.key_hash(digest), fields=["key", "user"],
                                    presumed=f"key:{prefix}")
    key = _key_with_owner(state, prefix, digest)
    if key is None or key.revoked_at is not None:
        raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
    if not key.is_usable():
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("User is inactive.")
    _touch(key, state)
    return key


def _key_with_owner(state: caller_cache.CachedState, prefix: str, digest: str) -> ApiKey | None:
    """The key whose secret has `digest`, with its owner: cached, else read in one query and cached."""
    cached_key, cached_user = state.get("key"), state.get("user")
    if cached_key is not None and cached_user is not None:
        key, _ = caller_cache.from_snapshot(ApiKey, cached_key)
        key.user, _ = caller_cache.from_snapshot(User, cached_user)
        return key
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.digest, digest):
        return None
    state.store({"key": _key_snapshot(key),
                 "user": caller_cache.snapshot(key.user, exclude=auth_cache.USER_DEFERRED)})
    return key


def _key_snapshot(key: ApiKey) -> bytes:
    return caller_cache.snapshot(key, exclude=["digest"])


def _touch(key: ApiKey, state: caller_cache.CachedState) -> None:
    """Record the key's use when the last record is older than LAST_USED_RESOLUTION, in the cache too (a change of
    `last_used_at` alone sends no invalidation: it decides nothing)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        state.store({"key": _key_snapshot(key)})


def is_jwt(token: str) -> bool:
    """Tessera's own access tokens are JWTs (three dot-separated parts); an application's are opaque, without dots."""
    return token.count(".") == 2


class ClientApplicationAuthentication(OAuth2Authentication):
    """`Authorization: Bearer <token>` with a token issued to a client application. A JWT is left to
    BearerTokenAuthentication (next in the list), and so is a token DOT does not know, which that class then
    refuses as invalid: one bearer header, one answer."""

    #: An application acts for the person as an API key does: account self-service refuses it.
    api_key = True

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        kind, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if kind.lower() != "bearer" or not token or is_jwt(token):
            return None
        authenticated = super().authenticate(request)
        if authenticated is not None and not authenticated[0].is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        return authenticated


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents bearer tokens twice: as OAuth2 password flow (Swagger's Authorize) and as a pasted token."""

    target_class = BearerTokenAuthentication
    name = ["oauth2Password", "bearerToken"]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list]]:
        return [{"oauth2Password": []}, {"bearerToken": []}]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}},
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        ]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}


class ClientApplicationScheme(OpenApiAuthenticationExtension):
    """Documents the authorization-code flow, with the scope catalogue, for the docs and client generators."""

    target_class = ClientApplicationAuthentication
    name = "oauth2AuthorizationCode"
    priority = 1  # over drf-spectacular's own extension for DOT's base class

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        from .oauth import scope_catalogue  # the catalogue needs every app's resources, loaded by now

        return {"type": "oauth2", "flows": {"authorizationCode": {
            "authorizationUrl": "/auth/authorize", "tokenUrl": "/auth/token", "refreshUrl": "/auth/token",
            "scopes": scope_catalogue()}}}
