"""State changes of accounts: registration, credentials, tokens, API keys and roles, each reported to the audit trail."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AbstractAccessToken, get_access_token_model, get_refresh_token_model
from rest_framework.exceptions import APIException, AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from apps.api import throttling
from apps.api.errors import Conflict, Unavailable, ValidationFailed
from apps.api.throttling import Limit
from apps.audit.models import AuditLog
from apps.audit.services import audit_record, security_event_record
from apps.platform.client_ip import client_ip
from apps.tenants.services import tenant_create_personal

from . import auth_cache
from .authentication import FAMILY_CLAIM, key_digest, token_family_id
from .conf import accounts_settings
from .models import ApiKey, TokenFamily, User

BAD_CREDENTIALS = "No active account found with the given credentials."


def _validate_password(password: str, *, user=None, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed("The password is too weak.", details={field: list(error.messages)}) from None


@transaction.atomic
def user_register(*, email: str, password: str | None, full_name: str = "", role: str = User.Role.USER) -> User:
    """Create a user (by default with the `user` role) and a personal tenant they own. Duplicate emails are 409. A
    password of None (an account made by signing in elsewhere, such as GitHub) cannot sign in with a password until
    one is set."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("An account with this email already exists.", details={"email": ["This email is taken."]})
    if password is not None:
        _validate_password(password, user=User(email=email, full_name=full_name))
    user = User.objects.create_user(email=email, password=password, full_name=full_name, role=role)
    tenant_create_personal(owner=user)
    return user


@transaction.atomic
def user_create(*, created_by: User, email: str, password: str, full_name: str = "", role: str = User.Role.USER,
                is_active: bool = True, request: HttpRequest | Request | None = None) -> User:
    """A platform admin opens an account for someone: registration's rules (unique email, a strong password, a
    personal tenant), with the role given. A role other than `user` is audited as a role change by the admin."""
    user = user_register(email=email, password=password, full_name=full_name)
    if role != user.role or not is_active:
        user_update(user=user, changed_by=created_by, request=request, role=role, is_active=is_active)
    return user


class SignInRefused(PermissionDenied):
    """Sign-in attempts for this email or address are over their limit, or cannot be counted: refused whatever
    the password. A Django PermissionDenied, so `django.contrib.auth.authenticate` (the session logins of the
    admin and the browsable API) turns it into an ordinary failed login; the token endpoint answers 429 or 503.
    """

    def __init__(self, refusal: APIException) -> None:
        super().__init__(str(refusal.detail))
        self.refusal = refusal


def credentials_check(*, request: HttpRequest | Request | None, email: str, password: str) -> User | None:
    """The sign-in service: the active user with these credentials, or None. Every way to present a password
    comes here (the token endpoint directly, session logins through `backends.SignInBackend`).

    Each attempt is counted per email and per client address whatever its outcome, so past a limit even the
    right password is refused (SignInRefused). Unknown email and wrong password look the same. Both outcomes
    are audited; a failure records the email that was tried (never the password).
    """
    email = (email or "").strip().lower()
    if request is not None:
        _sign_in_attempt_count(request, email)
    user = ModelBackend().authenticate(request, username=email, password=password)
    if user is None:
        audit_record(AuditLog.Event.LOGIN_FAILED, request=request, email=email)
    else:
        audit_record(AuditLog.Event.LOGIN_SUCCEEDED, request=request, actor=user)
    return user


def _sign_in_attempt_count(request, email: str) -> None:
    """Count one attempt against the per-email and per-address limits; SignInRefused past either."""
    limits = [Limit("login:email", f"email:{email}", accounts_settings.LOGIN_RATE_PER_EMAIL),
              Limit("login:ip", f"ip:{client_ip(request)}", accounts_settings.LOGIN_RATE_PER_IP)]
    for limit in limits:
        if not limit.rate:
            continue
        try:
            usage = throttling.count(request, limit, fail_closed=True)
        except Unavailable as refusal:
            raise SignInRefused(refusal) from None
        if usage["should_limit"]:
            security_event_record(AuditLog.Event.THROTTLED, request, {"limit": limit.group, "email": email})
            raise SignInRefused(Throttled(wait=max(usage["time_left"], 1))) from None


def token_pair_issue(user: User) -> dict[str, Any]:
    """A new sign-in: a token family, its first refresh token (recorded, so it can be blacklisted), an access token."""
    family = TokenFamily.objects.create(user=user)
    refresh = _refresh_token_issue(user, family_id=family.pk)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return _token_pair(refresh)


def _refresh_token_issue(user: User, *, family_id) -> RefreshToken:
    """A fresh refresh token of `user` in `family_id`, recorded as outstanding. Its access tokens copy its claims
    (the user, the password digest that CHECK_REVOKE_TOKEN compares, the family)."""
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user.pk)
    if jwt_settings.CHECK_REVOKE_TOKEN:
        refresh[jwt_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    refresh[FAMILY_CLAIM] = str(family_id)
    OutstandingToken.objects.create(user=user, jti=refresh[jwt_settings.JTI_CLAIM], token=str(refresh),
                                    created_at=refresh.current_time, expires_at=datetime_from_epoch(refresh["exp"]))
    return refresh


def _token_pair(refresh: RefreshToken) -> dict:
    """The pair under Tessera's names (`access`, `refresh`) and OAuth2's (`access_token`, `refresh_token`), so
    clients written for either read it unchanged."""
    access = str(refresh.access_token)
    return {"access": access, "refresh": str(refresh), "access_token": access, "refresh_token": str(refresh),
            "token_type": "bearer", "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())}


def token_refresh(refresh: str, *, request: Request | None = None) -> dict[str, Any]:
    """Rotate: a new pair of the same sign-in for a live refresh token, which is blacklisted.

    Atomic: the token's outstanding row is locked, so of concurrent uses of one token exactly one wins. Any
    other use of a rotated token is reuse, which only a copy can do (a stolen token, or a client racing
    itself): it is audited as `refresh_reused` and ends the whole sign-in, every refresh token rotated from
    the same login and their access tokens, as the OAuth 2.0 Security BCP advises.
    """
    payload = _genuine_refresh_payload(refresh)
    family_id = token_family_id(payload)
    with transaction.atomic():
        outstanding = (OutstandingToken.objects.select_for_update(of=("self",)).select_related("user")
                       .filter(jti=payload.get(jwt_settings.JTI_CLAIM)).first())
        family = TokenFamily.objects.filter(pk=family_id).first() if outstanding is not None else None
        if family is None or family.revoked_at is not None or outstanding.user_id != family.user_id:
            outcome = "invalid"
        elif BlacklistedToken.objects.filter(token=outstanding).exists():
            family.revoked_at = timezone.now()
            family.save(update_fields=["revoked_at"])
            outcome = "reused"
        elif not outstanding.user.is_active:
            outcome = "inactive"
        else:
            BlacklistedToken.objects.create(token=outstanding)
            return _token_pair(_refresh_token_issue(outstanding.user, family_id=family.pk))
    if outcome == "reused":
        audit_record(AuditLog.Event.REFRESH_REUSED, request=request, actor=outstanding.user)
    if outcome == "inactive":
        raise AuthenticationFailed("No active account found for the given token.", code="no_active_account")
    raise TokenError("Token is blacklisted" if outcome == "reused" else "Token is invalid or expired")


def _genuine_refresh_payload(refresh: str) -> dict:
    """The payload of a refresh token signed by us and unexpired (whether or not blacklisted), else TokenError."""
    try:
        payload = token_backend.decode(refresh, verify=True)
    except TokenBackendError:
        raise TokenError("Token is invalid or expired") from None
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        raise TokenError("Token has wrong type")
    return payload


def token_revoke(refresh: str, *, request: Request | None = None) -> None:
    """Logout: end the sign-in of this refresh token (its family: every refresh token rotated from the same login
    and their access tokens), and the sign-in of the access token that made the request, if one did. Audited,
    with the token's user as the actor. A rotated token is reuse, handled as `token_refresh` handles it."""
    try:
        token = RefreshToken(refresh)
    except TokenError:
        _revoke_if_reused(refresh, request=request)
        raise
    token.blacklist()
    families = {token_family_id(token)}
    if request is not None and isinstance(request.auth, AccessToken):
        families.add(token_family_id(request.auth))
    _sign_ins_end(TokenFamily.objects.filter(pk__in=families - {None}))
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    audit_record(AuditLog.Event.LOGOUT, request=request, actor=User.objects.filter(pk=user_id).first())


def _revoke_if_reused(refresh: str, *, request) -> None:
    """When `refresh` is genuine (signed by us, unexpired) but already blacklisted, end its sign-in and record
    `refresh_reused`."""
    try:
        payload = _genuine_refresh_payload(refresh)
    except TokenError:
        return  # forged, malformed or expired: an invalid token, not a reuse
    blacklisted = BlacklistedToken.objects.select_related("token__user").filter(
        token__jti=payload.get(jwt_settings.JTI_CLAIM)).first()
    if blacklisted is not None:
        _sign_ins_end(TokenFamily.objects.filter(pk=token_family_id(payload)))
        audit_record(AuditLog.Event.REFRESH_REUSED, request=request, actor=blacklisted.token.user)


def _sign_ins_end(families: QuerySet[TokenFamily]) -> None:
    """Revoke the live ones of `families` in one UPDATE. An UPDATE sends no signal, so the cached state of their
    users, which says which sign-ins are live, is cleared here (auth_cache)."""
    families = families.filter(revoked_at__isnull=True)
    user_ids = set(families.values_list("user_id", flat=True))
    families.update(revoked_at=timezone.now())
    auth_cache.user_changed(*user_ids)


def credentials_revoke_all(user: User, *, revoked_by: User | None = None,
                           request: HttpRequest | Request | None = None) -> None:
    """End every credential `user` holds: every sign-in (so every refresh and access token), every API key and
    every token a client application holds for them.

    Nothing here is undone by reactivating the user: the families, blacklist entries and keys stay revoked,
    so only credentials issued afterwards work.
    """
    _sign_ins_end(TokenFamily.objects.filter(user=user))
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding],
                                         ignore_conflicts=True)
    for refresh_token in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True):
        refresh_token.revoke()  # its access token goes with it
    get_access_token_model().objects.filter(user=user).delete()
    for key in user.api_keys.filter(revoked_at__isnull=True):
        api_key_revoke(key, revoked_by=revoked_by or user, request=request)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str,
                    request: HttpRequest | Request | None = None) -> None:
    """Set a new password and end every credential issued before it: every sign-in's refresh and access tokens,
    and every API key (a password is changed because it leaked; whatever it let someone create must die too)."""
    if not user.check_password(old_password):
        raise ValidationFailed("The current password is wrong.", details={"old_password": ["Wrong password."]})
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    credentials_revoke_all(user, request=request)
    audit_record(AuditLog.Event.PASSWORD_CHANGED, request=request, actor=user)


@transaction.atomic
def user_update(*, user: User, changed_by: User, request: HttpRequest | Request | None = None,
                **fields: Any) -> User:
    """Profile changes, and for platform admins role and activation. Deactivation ends every credential at once
    (tokens and API keys), for good: reactivation revives none of them.

    Role changes and deactivations are audited with `changed_by` as the actor.
    """
    if user.pk == changed_by.pk and (fields.get("is_active") is False or fields.get("role", user.role) != user.role):
        raise Conflict("You cannot deactivate yourself or change your own role.")
    old_role, was_active = user.role, user.is_active
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    if fields.get("is_active") is False:
        credentials_revoke_all(user, revoked_by=changed_by, request=request)
    user_changes_audit(user=user, changed_by=changed_by, old_role=old_role, was_active=was_active, request=request)
    return user


def user_changes_audit(*, user: User, changed_by: User, old_role: str, was_active: bool,
                       request: HttpRequest | Request | None = None) -> None:
    """Audit a role change or a deactivation of `user`, whichever happened (the API and the admin share it)."""
    if user.role != old_role:
        audit_record(AuditLog.Event.ROLE_CHANGED, request=request, actor=changed_by, user_id=user.pk,
                     old_role=old_role, new_role=user.role)
    if was_active and not user.is_active:
        audit_record(AuditLog.Event.USER_DEACTIVATED, request=request, actor=changed_by, user_id=user.pk)


def api_key_create(*, user: User, name: str, scopes: list[str], allowed: frozenset[str],
                   expires_at: datetime | None = None, request: HttpRequest | Request | None = None) -> ApiKey:
    """A new key and its secret (returned once, never stored). Scopes must be a subset of `allowed`.

    The audit row names the key by id and prefix only.
    """
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
    audit_record(AuditLog.Event.API_KEY_CREATED, request=request, actor=user, api_key_id=key.pk, prefix=prefix,
                 name=name, scopes=key.scopes)
    key.secret = secret
    return key


def api_key_revoke(key: ApiKey, *, revoked_by: User | None = None,
                   request: HttpRequest | Request | None = None) -> ApiKey:
    """Revoke now; the next request with this key is a 401. Audited once, when the key actually dies."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(AuditLog.Event.API_KEY_REVOKED, request=request, actor=revoked_by or key.user,
                     api_key_id=key.pk, prefix=key.prefix, owner_id=key.user_id)
    return key


@dataclass(frozen=True)
class SocketTicket:
    """What a WebSocket ticket stands for: the caller who asked for it, and the API key or the client
    application's token they used, if any (the socket then holds only that credential's scopes)."""

    user_id: int
    api_key_id: int | None = None
    application_token_id: int | None = None


def _socket_ticket_cache_key(ticket: str) -> str:
    # The digest, not the ticket: what the cache holds cannot be replayed by whoever reads it.
    return f"socket-ticket:{key_digest(ticket)}"


def socket_ticket_issue(*, user: User, auth: ApiKey | Token | AbstractAccessToken | None) -> str:
    """A one-time ticket that lets one WebSocket in as `user`, with the scopes of the API key `auth` if it is
    one, for TESSERA_ACCOUNTS["SOCKET_TICKET_SECONDS"].

    It lives in the cache, so whichever web process the socket reaches can redeem it; browsers cannot set
    headers on a WebSocket, and a ticket in the URL is worthless once used or a few seconds old.
    """
    ticket = secrets.token_urlsafe(32)
    claim = SocketTicket(user_id=user.pk, api_key_id=auth.pk if isinstance(auth, ApiKey) else None,
                         application_token_id=auth.pk if isinstance(auth, AbstractAccessToken) else None)
    cache.set(_socket_ticket_cache_key(ticket), claim, timeout=accounts_settings.SOCKET_TICKET_SECONDS)
    return ticket


def socket_ticket_redeem(ticket: str) -> tuple[User, ApiKey | AbstractAccessToken | SocketTicket] | None:
    """(user, auth) for a live ticket, once; None for an unknown, used or expired one, or a dead user, key or token.

    `auth` is the ticket's API key or application token, else the ticket itself: never None, which a socket reads
    as the session.
    """
    cache_key = _socket_ticket_cache_key(ticket)
    claim = cache.get(cache_key)
    if claim is None or not cache.delete(cache_key):  # delete() is true for one caller only: single use
        return None
    user = User.objects.filter(pk=claim.user_id, is_active=True).first()
    if user is None:
        return None
    if claim.application_token_id is not None:
        token = get_access_token_model().objects.filter(pk=claim.application_token_id, user=user).first()
        return (user, token) if token is not None and token.is_valid() else None
    if claim.api_key_id is None:
        return user, claim
    key = ApiKey.objects.filter(pk=claim.api_key_id, user=user).first()
    return (user, key) if key is not None and key.is_usable() else None
