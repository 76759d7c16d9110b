"""How a request proves who it is: a JWT bearer token or an X-API-Key header."""
import hashlib
import hmac
import uuid
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from .models import ApiKey, TokenFamily, User

API_KEY_HEADER = "X-API-Key"
#: last_used_at is written at most this often per key, so a busy key does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_KEY_MESSAGE = "Invalid API key."


#: The claim naming the sign-in (TokenFamily) a refresh or access token belongs to.
FAMILY_CLAIM = "family"


def token_family_id(token) -> uuid.UUID | None:
    """The TokenFamily id a token (or its payload) names, or None when it names none (a token issued elsewhere)."""
    try:
        return uuid.UUID(str(token.get(FAMILY_CLAIM)))
    except ValueError:
        return None


class BearerTokenAuthentication(JWTAuthentication):
    """`Authorization: Bearer <access>`. Tokens of inactive users, tokens older than a password change and tokens
    of a sign-in that has ended (logout, refresh reuse, password change, deactivation) fail.

    Whether the sign-in is live is read with the user, in the one query the request makes anyway, from the
    database, so a revocation holds in every process at once.
    """

    def get_user(self, validated_token):
        family = token_family_id(validated_token)
        live_family = TokenFamily.objects.filter(pk=family, user=OuterRef("pk"), revoked_at__isnull=True)
        try:
            user = User.objects.annotate(signed_in=Exists(live_family)).get(
                pk=int(validated_token[jwt_settings.USER_ID_CLAIM]))
        except (KeyError, TypeError, ValueError, User.DoesNotExist):
            raise exceptions.AuthenticationFailed("User not found.", code="user_not_found") from None
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and (
                validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)):
            raise exceptions.AuthenticationFailed("The user's password has been changed.", code="password_changed")
        if family is None or not user.signed_in:
            raise exceptions.AuthenticationFailed("This session has ended; sign in again.", code="session_ended")
        return user


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
