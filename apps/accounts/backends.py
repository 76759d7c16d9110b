"""The authentication backend of every password sign-in that goes through `django.contrib.auth.authenticate`."""
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from . import services
from .models import User


class SignInBackend(ModelBackend):
    """Django's model backend behind the sign-in service: the admin login, the browsable API's login and any
    future form that checks a password meet the same per-email and per-address limits and leave the same
    `login_failed` / `login_succeeded` audit rows as the token endpoint. Past a limit the service raises a
    PermissionDenied, which `authenticate()` turns into a failed login, so the right password is refused too.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     email: str | None = None, **kwargs: Any) -> User | None:

        email = email or username
        if email is None or password is None:
            return None
        return services.credentials_check(request=request, email=email, password=password)
