"""The authentication backend of every password sign-in that goes through `django.contrib.auth.authenticate`."""
from django.contrib.auth.backends import ModelBackend

from . import services


class SignInBackend(ModelBackend):
    """Django's model backend behind the sign-in service: the admin login, the browsable API's login and any
    future form that checks a password meet the same per-email and per-address limits and leave the same
    `login_failed` / `login_succeeded` audit rows as the token endpoint. Past a limit the service raises a
    PermissionDenied, which `authenticate()` turns into a failed login, so the right password is refused too.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if email is None or password is None:
            return None
        return services.credentials_check(request=request, email=email, password=password)
