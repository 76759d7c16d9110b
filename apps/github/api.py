"""Signing in with GitHub (the OAuth web flow): /auth/github/login and /auth/github/callback."""
from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps import api
from apps.accounts.api import PublicAuthView, TokenPairSerializer
from apps.accounts.services import token_pair_issue
from apps.api.errors import ValidationFailed
from apps.platform.error_envelope import ErrorEnvelope

from . import signin
from .conf import github_settings


class GitHubLoginSerializer(serializers.Serializer):
    authorization_url = serializers.URLField(help_text="Send the user's browser here.")
    state = serializers.CharField(help_text="Single use, ten minutes; also set as an HttpOnly cookie.")


class GitHubSignInSerializer(TokenPairSerializer):
    user_id = serializers.IntegerField()
    created = serializers.BooleanField(help_text="Whether this sign-in created the account.")


def callback_url(request: Request) -> str:
    return github_settings.CALLBACK_URL or request.build_absolute_uri(reverse("github-callback"))


def with_state_cookie(response, request: Request, state: str):
    response.set_cookie(signin.STATE_COOKIE, state, max_age=signin.STATE_SECONDS, httponly=True,
                        secure=request.is_secure(), samesite="Lax")
    return response


class GitHubLoginView(PublicAuthView):
    """Start signing in with GitHub. GET redirects the browser to GitHub; POST answers the URL to send it to.
    Either way a single-use `state` is issued and set as a cookie: the callback accepts it only from this browser.
    503 when the deployment has no GitHub OAuth app."""

    @extend_schema(responses={302: None, 503: ErrorEnvelope})
    def get(self, request: Request) -> HttpResponseRedirect:
        state, url = signin.login_start(redirect_uri=callback_url(request))
        return with_state_cookie(HttpResponseRedirect(url), request, state)

    @extend_schema(request=None, responses={200: GitHubLoginSerializer, 503: ErrorEnvelope})
    def post(self, request: Request) -> Response:
        state, url = signin.login_start(redirect_uri=callback_url(request))
        return with_state_cookie(Response({"authorization_url": url, "state": state}), request, state)


class GitHubCallbackView(PublicAuthView):
    """Where GitHub sends the browser back: checks `state` (this browser's, issued by us, unused), exchanges
    `code`, reads the GitHub user and their verified emails, and signs in as the linked account, the account with
    that verified email, or a new one (the `user` role and a personal tenant). Answers a token pair."""

    @extend_schema(parameters=[OpenApiParameter("code", OpenApiTypes.STR, required=True),
                               OpenApiParameter("state", OpenApiTypes.STR, required=True)],
                   responses={200: GitHubSignInSerializer})
    def get(self, request: Request) -> Response:
        signin.state_check(state=request.query_params.get("state", ""),
                           cookie=request.COOKIES.get(signin.STATE_COOKIE))
        code = request.query_params.get("code", "")
        if not code:
            raise ValidationFailed(details={"code": ["GitHub sent no authorization code."]})
        user, created = signin.login_finish(code=code, redirect_uri=callback_url(request))
        response = Response({**token_pair_issue(user), "user_id": user.pk, "created": created})
        response.delete_cookie(signin.STATE_COOKIE)
        return response


api.site.route("auth/github/login", GitHubLoginView)
api.site.route("auth/github/callback", GitHubCallbackView, name="github-callback")
