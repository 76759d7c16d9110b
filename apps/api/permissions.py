"""`HasScope`: an operation or action runs only when the request holds the scope it needs.

API keys reach only what is declared for them. A view that needs no scope is for people (JWT, session), so a
key is refused there unless the view says otherwise (`ApiView.access`); forgetting to declare is safe.
"""
from enum import Enum

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

KEYS_REFUSED = "API keys cannot call this endpoint: it is for the person signed in (a token or a session)."


class Access(Enum):
    """Who a hand-written view that declares no scope is for (`ApiView.access`)."""

    #: Anyone, signed in or not: sign-up and sign-in.
    PUBLIC = "public"
    #: The person signed in (JWT or session), never an API key whatever it holds: account self-service.
    PERSONAL = "personal"
    #: Any signed-in caller, API keys included: only for reads about the caller itself (who am I, where).
    CALLER = "caller"


def signed_in_with_key(request: Request) -> bool:
    """Whether the request acts with a key a person gave a program, not as the person.

    The authentication class says so with `api_key = True` (the generator cannot import the app that
    defines keys).
    """
    return bool(getattr(request.successful_authenticator, "api_key", False))


class HasScope(BasePermission):
    """Checks `view.required_scope()` against `request.scopes` (role, membership and API key combined), after
    refusing an API key where `view.refuses_keys()`."""

    message = "You do not have the scope this action needs."

    def has_permission(self, request: Request, view: APIView) -> bool:

        if signed_in_with_key(request) and view.refuses_keys():
            self.message = KEYS_REFUSED
            return False
        required = view.required_scope()
        if required is None or required in request.scopes:
            return True
        self.message = f"This action needs the '{required}' scope."
        return False
