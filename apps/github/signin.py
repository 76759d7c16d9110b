"""Signing in with GitHub: the OAuth web flow's `state`, and the account a GitHub identity signs in as.

The state is single-use and bound to the browser that started the flow: the login answer stores it in the shared
cache (so any web process can check it) and in an HttpOnly cookie; the callback accepts it only when the query,
the cookie and the cache agree, and removes it from the cache as it checks. A forged or replayed callback (login
CSRF) is refused before any code is exchanged.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.services import user_register
from apps.api.errors import PermissionDenied, Unavailable, ValidationFailed

from .client import GitHub, GitHubError
from .conf import github_settings
from .models import GitHubAccount
from .services import answering_for_github

STATE_SECONDS = 10 * 60
STATE_COOKIE = "tessera_github_state"


def _state_key(state: str) -> str:
    return "github-oauth-state:" + hashlib.sha256(state.encode()).hexdigest()


def login_start(*, redirect_uri: str) -> tuple[str, str]:
    """A new state, remembered for ten minutes, and the GitHub URL that asks the user to authorize this app."""
    if not github_settings.CLIENT_ID or not github_settings.CLIENT_SECRET:
        raise Unavailable("GitHub sign-in is not configured on this deployment.")
    state = secrets.token_urlsafe(32)
    cache.set(_state_key(state), 1, STATE_SECONDS)
    return state, GitHub.authorize_url(state=state, redirect_uri=redirect_uri)


def state_check(*, state: str, cookie: str | None) -> None:
    """Accept the callback's state once: it must be the browser's own (its cookie) and one we issued, unused."""
    if not state or not cookie or not secrets.compare_digest(state, cookie) or not cache.delete(_state_key(state)):
        raise ValidationFailed("The sign-in could not be verified; start again from /auth/github/login.",
                               details={"state": ["Unknown, expired or already used."]})


def login_finish(*, code: str, redirect_uri: str) -> tuple[User, bool]:
    """Exchange the code, read the GitHub user and their verified emails, and sign in as the linked account, the
    account with a verified email, or a new one. Returns the user and whether it was created."""
    with answering_for_github():
        try:
            client = GitHub(GitHub.exchange_code(code, redirect_uri=redirect_uri))
        except GitHubError as refused:
            if refused.status != 400:
                raise
            raise ValidationFailed(details={"code": [str(refused)]}) from None
        profile, emails = client.user(), client.emails()
    verified = [entry["email"] for entry in sorted(emails, key=lambda e: not e.get("primary"))
                if entry.get("verified")]
    return _account_for(profile, verified)


@transaction.atomic
def _account_for(profile: dict[str, Any], verified: list[str]) -> tuple[User, bool]:
    link = GitHubAccount.objects.select_related("user").filter(github_id=profile["id"]).first()
    created = False
    if link is not None:
        user = link.user
    else:
        if not verified:
            raise ValidationFailed("Your GitHub account has no verified email address.",
                                   details={"code": ["GitHub reports no verified email for this account."]})
        user = User.objects.filter(email__in=[email.lower() for email in verified]).first()
        if user is None:
            user = user_register(email=verified[0], password=None,
                                 full_name=(profile.get("name") or profile.get("login") or "")[:150])
            created = True
        GitHubAccount.objects.create(user=user, github_id=profile["id"], login=profile.get("login", "")[:100])
    if not user.is_active:
        raise PermissionDenied("This account is deactivated.")
    return user, created
