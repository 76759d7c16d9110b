"""Session logins (the browsable API's /api-auth/login/ and the admin's /admin/login/) meet the same sign-in
limits and leave the same audit rows as auth/token: attacked over HTTP against a real server process."""
import http.client
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from apps.audit.models import AuditLog
from tests.conftest import PASSWORD

LIMIT = 5
BROWSABLE_API_LOGIN = "/api-auth/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def server(start_server):
    return start_server(LOGIN_RATE_PER_EMAIL=f"{LIMIT}/h", LOGIN_RATE_PER_IP="1000/h")


def session_login(server, path: str, email: str, password: str) -> int:
    """Fill in and post the login form as a browser would; the status of the post (302 means signed in)."""
    status, headers, body = server.request("GET", f"{path}?next=/api/v1/auth/me")
    assert status == 200, body[:500]
    csrf = SimpleCookie(headers["set-cookie"])["csrftoken"].value
    form_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"csrfmiddlewaretoken": form_token, "username": email, "password": password,
                      "next": "/api/v1/auth/me"}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)  # a 302 is the answer, not followed
    try:
        connection.request("POST", path, body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"})
        return connection.getresponse().status
    finally:
        connection.close()


def token_login(server, email: str, password: str) -> int:
    body = json.dumps({"email": email, "password": password}).encode()
    return server.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})[0]


def failed_logins_for(email: str) -> int:
    return AuditLog.objects.filter(event=AuditLog.Event.LOGIN_FAILED, details__email=email).count()


@pytest.mark.parametrize("path", [BROWSABLE_API_LOGIN, ADMIN_LOGIN])
def test_a_session_login_refuses_the_right_password_past_the_per_email_limit(server, admin_user, path):
    wrong = [session_login(server, path, admin_user.email, "not-the-password") for _ in range(LIMIT)]

    right = session_login(server, path, admin_user.email, PASSWORD)

    assert wrong == [200] * LIMIT  # the form again, with an error
    assert right == 200, "signed in past the limit"
    assert failed_logins_for(admin_user.email) == LIMIT
    assert AuditLog.objects.filter(event=AuditLog.Event.THROTTLED, details__email=admin_user.email).exists()


@pytest.mark.parametrize("path", [BROWSABLE_API_LOGIN, ADMIN_LOGIN])
def test_a_session_login_with_the_right_password_is_audited_as_a_sign_in(server, admin_user, path):
    assert session_login(server, path, admin_user.email, PASSWORD) == 302

    assert AuditLog.objects.filter(event=AuditLog.Event.LOGIN_SUCCEEDED, actor=admin_user).count() == 1


def test_every_password_path_draws_on_one_count_per_email(server, admin_user):
    token_attempts = [token_login(server, admin_user.email, "wrong-password") for _ in range(2)]
    admin_attempts = [session_login(server, ADMIN_LOGIN, admin_user.email, "wrong-password") for _ in range(2)]
    browsable_attempt = session_login(server, BROWSABLE_API_LOGIN, admin_user.email, "wrong-password")

    assert token_attempts == [401, 401] and admin_attempts == [200, 200] and browsable_attempt == 200
    assert token_login(server, admin_user.email, PASSWORD) == 429
    assert session_login(server, ADMIN_LOGIN, admin_user.email, PASSWORD) == 200
