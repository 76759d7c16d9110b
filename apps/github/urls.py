"""Signing in with GitHub at the root, as the gateway summary calls it (`/auth/github/login`, `/auth/github/callback`):
the views served under /api/v1/ too, mounted a second time. config/urls.py includes it before the accounts'
root paths, whose last pattern answers every other `/auth/` path with the 404 envelope."""
from django.urls import re_path

from .api import GitHubCallbackView, GitHubLoginView

urlpatterns = [
    re_path(r"^auth/github/login/?$", GitHubLoginView.as_view(), name="root-github-login"),
    re_path(r"^auth/github/callback/?$", GitHubCallbackView.as_view(), name="root-github-callback"),
]
