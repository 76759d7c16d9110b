"""How a request proves who it is: a JWT bearer token or an X-API-Key header."""
import hashlib
import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from .models import ApiKey

API_KEY_HEADER = "X-API-Key"
#: last_used_at is written at most this often per key, so a busy key does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY_MESSAGE = "Invalid API key."


class BearerTokenAuthentication(JWTAuthentication):
    """`Authorization: Bearer <access>`. Tokens of inactive users and tokens older than a password change fail."""


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

    def authenticate(self, request):
        secret = request.headers.get(API_KEY_HEADER)
        if not secret:
            return None
        key = authenticate_api_key(secret)
        return key.user, key

    def authenticate_header(self, request):
        return API_KEY_HEADER


def authenticate_api_key(secret: str) -> ApiKey:
    """The usable key behind `secret`, or AuthenticationFailed. Shared by HTTP and WebSocket authentication."""
    prefix = key_prefix(secret)
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first() if prefix else None
    if key is None or not hmac.compare_digest(key.digest, key_digest(secret)) or key.revoked_at is not None:
        raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
    if not key.is_usable():
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("User is inactive.")
    _touch(key)
    return key


def _touch(key: ApiKey):
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents bearer tokens twice: as OAuth2 password flow (Swagger's Authorize) and as a pasted token."""

    target_class = BearerTokenAuthentication
    name = ["oauth2Password", "bearerToken"]

    def get_security_requirement(self, auto_schema):
        return [{"oauth2Password": []}, {"bearerToken": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}},
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        ]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
