"""OAuth2 for registered client applications, the guide's third way in, on django-oauth-toolkit (DOT).

A platform admin registers an application in the operator console (client id, a secret DOT stores hashed and the
console shows once, its redirect URIs). A person signed in with a session consents at `/auth/authorize` (DOT's
page); the application exchanges the code at `/auth/token` (`grant_type=authorization_code`, with the PKCE verifier
when it sent a challenge) and calls the API with `Authorization: Bearer <access_token>`.

What Tessera adds to DOT, here and only here:
- Scopes are Tessera's catalogue (every resource's `<scope>:read|write|delete`, and `admin`), and a person grants
  at most the scopes their platform role holds: asking for more is `invalid_scope`. Without `scope` the
  application asks for all of them. At each request the token's scopes narrow the caller's, as an API key's do
  (scopes.scopes_for_access), in the tenant chosen by X-Tenant-ID.
- PKCE is required of public clients (no secret to authenticate them at the token endpoint); confidential clients
  may send it, and then it is verified.
- An application's token is a program acting for the person, like an API key: account self-service (password,
  API keys, invitations) refuses it (authentication.ClientApplicationAuthentication), and deactivating the person or changing their password
  revokes it (services.credentials_revoke_all).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.views import AuthorizationView, TokenView
from oauthlib.oauth2 import InvalidScopeError

from apps.api import site

from .scopes import ADMIN_SCOPE, role_scopes

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    from .models import User

#: The grants `/auth/token` hands to DOT; without `grant_type` (or with `password`) it signs a person in.
CLIENT_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})

VERB_TEXT = {"read": "Read", "write": "Create and change", "delete": "Delete"}


def scope_catalogue() -> dict[str, str]:
    """Every scope an application may ask for, with the text the consent page shows."""
    catalogue = {ADMIN_SCOPE: "Administrative access: everything a platform admin may do"}
    for scope in sorted(site.scopes()):
        resource, _, verb = scope.partition(":")
        catalogue[scope] = f"{VERB_TEXT.get(verb, verb)} {resource.replace('_', ' ')}"
    return catalogue


def grantable_scopes(user: User) -> list[str]:
    """The scopes `user` may grant an application: those of their platform role."""
    return sorted(role_scopes(user.role))


class TesseraScopes(BaseScopes):
    """DOT's scopes backend (OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]). oauthlib knows the person only once they
    consent (DOT sets `request.user` then), so before that the whole catalogue is available and AuthorizeView
    narrows it to the person's own scopes."""

    def get_all_scopes(self) -> dict[str, str]:
        return scope_catalogue()

    def get_available_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list:
        user = getattr(request, "user", None)
        return grantable_scopes(user) if user is not None else list(scope_catalogue())

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list:
        return self.get_available_scopes(application, request)


class TesseraOAuth2Validator(OAuth2Validator):
    """DOT's validator with Tessera's PKCE rule: required of public clients, verified for any client that sends it."""

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        client = getattr(request, "client", None)
        if client is None or client.client_id != client_id:
            client = get_application_model().objects.filter(client_id=client_id).first()
        return client is None or client.client_type == get_application_model().CLIENT_PUBLIC


class AuthorizeView(AuthorizationView):
    """`/auth/authorize`: DOT's consent page, which asks a signed-in person (others go to LOGIN_URL first) to let an
    application act for them. Scopes beyond the person's are refused with `invalid_scope`, sent back to the
    application's redirect URI; a redirect URI the application did not register is an error page, never a redirect.
    """

    def validate_authorization_request(self, request: HttpRequest) -> tuple[list[str], dict]:
        scopes, credentials = super().validate_authorization_request(request)
        grantable = grantable_scopes(request.user)
        if "scope" not in request.GET:
            return grantable, credentials
        beyond = sorted(set(scopes) - set(grantable))
        if beyond:
            refusal = InvalidScopeError(description=f"Not yours to grant: {', '.join(beyond)}.",
                                        state=credentials.get("state"))
            refusal.redirect_uri = credentials["redirect_uri"]  # already checked against the registered ones
            raise OAuthToolkitError(error=refusal, redirect_uri=credentials["redirect_uri"])
        return scopes, credentials


def client_token_response(request: Request) -> HttpResponse:
    """DOT's token endpoint for an application's grant (CLIENT_GRANT_TYPES), answered in OAuth2's own format
    (RFC 6749: `access_token`, `token_type`, `expires_in`, `refresh_token`, `scope`; errors as `{"error": ...}`),
    which OAuth2 client libraries read. The form body was parsed by DRF onto the Django request, where DOT reads it.
    """
    return TokenView.as_view()(request._request)
