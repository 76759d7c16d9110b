"""State changes of accounts: registration, credentials, tokens, API keys, roles. Every rule lives here."""
import secrets

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.api.errors import Conflict, ValidationFailed
from apps.tenants.services import tenant_create_personal

from .authentication import key_digest
from .models import ApiKey, User

BAD_CREDENTIALS = "No active account found with the given credentials."


def _validate_password(password: str, *, user=None, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed("The password is too weak.", details={field: list(error.messages)}) from None


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a user with the `user` role and a personal tenant they own. Duplicate emails are 409."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("An account with this email already exists.", details={"email": ["This email is taken."]})
    _validate_password(password, user=User(email=email, full_name=full_name))
    user = User.objects.create_user(email=email, password=password, full_name=full_name, role=User.Role.USER)
    tenant_create_personal(owner=user)
    return user


def credentials_check(*, request, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; unknown email and wrong password look the same."""
    return authenticate(request, email=email.lower(), password=password)


def token_pair_issue(user: User) -> dict:
    """A fresh refresh token (recorded, so it can be blacklisted) and its access token."""
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return {"access": str(refresh.access_token), "refresh": str(refresh), "token_type": "bearer",
            "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())}


def token_refresh(refresh: str) -> dict:
    """Rotate: a new pair for a live refresh token, which is blacklisted so its reuse is refused."""
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    serializer.is_valid(raise_exception=True)
    return {**serializer.validated_data, "token_type": "bearer",
            "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())}


def token_revoke(refresh: str) -> None:
    """Logout: blacklist this refresh token."""
    RefreshToken(refresh).blacklist()


def tokens_revoke_all(user: User) -> None:
    """Blacklist every refresh token `user` holds (access tokens die through the revoke claim or is_active)."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding],
                                         ignore_conflicts=True)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Set a new password and end every session: refresh tokens are blacklisted, access tokens stop matching."""
    if not user.check_password(old_password):
        raise ValidationFailed("The current password is wrong.", details={"old_password": ["Wrong password."]})
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user)


@transaction.atomic
def user_update(*, user: User, changed_by: User, **fields) -> User:
    """Profile changes, and for platform admins role and activation. Deactivation ends every session at once."""
    if user.pk == changed_by.pk and (fields.get("is_active") is False or fields.get("role", user.role) != user.role):
        raise Conflict("You cannot deactivate yourself or change your own role.")
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    if fields.get("is_active") is False:
        tokens_revoke_all(user)
    return user


def api_key_create(*, user: User, name: str, scopes: list[str], allowed: frozenset[str], expires_at=None):
    """A new key and its secret (returned once, never stored). Scopes must be a subset of `allowed`."""
    beyond = sorted(set(scopes) - allowed)
    if beyond:
        raise ValidationFailed("An API key cannot hold scopes its owner lacks.",
                               details={"scopes": [f"Not yours to grant: {', '.join(beyond)}."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(details={"expires_at": ["Must be in the future."]})
    prefix = secrets.token_hex(6)
    secret = f"tsk_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, name=name, prefix=prefix, digest=key_digest(secret),
                                scopes=sorted(set(scopes)), expires_at=expires_at)
    key.secret = secret
    return key


def api_key_revoke(key: ApiKey) -> ApiKey:
    """Revoke now; the next request with this key is a 401."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
