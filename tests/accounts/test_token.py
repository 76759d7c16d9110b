"""Logging in through auth/token: JSON and the OAuth2 password form."""
from urllib.parse import urlencode

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token"
FORM = "application/x-www-form-urlencoded"


def error_without_request_id(response) -> dict:
    return {key: value for key, value in response.json()["error"].items() if key != "request_id"}


def test_json_credentials_return_a_bearer_token_pair(anon_client, user):
    response = anon_client.post(URL, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["access"] and body["refresh"]
    assert (body["token_type"], body["expires_in"]) == ("bearer", 15 * 60)


def test_the_issued_access_token_authenticates_requests(anon_client, user, bearer):
    access = anon_client.post(URL, {"email": user.email, "password": PASSWORD}).json()["access"]

    response = bearer(access).get("/api/v1/auth/me")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_the_oauth2_password_form_returns_a_token_pair(anon_client, user):
    response = anon_client.post(URL, urlencode({"username": user.email, "password": PASSWORD}), content_type=FORM)

    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] == body["access"]
    assert body["token_type"] == "bearer"


def test_the_login_alias_issues_tokens_too(anon_client, user):
    response = anon_client.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["refresh"]


def test_the_email_is_matched_case_insensitively(anon_client, user):
    response = anon_client.post(URL, {"email": "User@Example.com", "password": PASSWORD})

    assert response.status_code == 200


def test_logging_in_records_last_login(anon_client, user):
    anon_client.post(URL, {"email": user.email, "password": PASSWORD})

    user.refresh_from_db()
    assert user.last_login is not None


def test_a_wrong_password_is_authentication_failed(anon_client, user):
    response = anon_client.post(URL, {"email": user.email, "password": "not-the-password"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_unknown_email_and_wrong_password_get_the_same_body(anon_client, user):
    wrong_password = anon_client.post(URL, {"email": user.email, "password": "not-the-password"})

    unknown_email = anon_client.post(URL, {"email": "nobody@example.com", "password": "not-the-password"})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert error_without_request_id(wrong_password) == error_without_request_id(unknown_email)


def test_an_inactive_user_is_refused_with_the_same_message(anon_client, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    wrong = anon_client.post(URL, {"email": "nobody@example.com", "password": PASSWORD})

    response = anon_client.post(URL, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == wrong.json()["error"]["message"]


def test_the_oauth2_form_with_a_wrong_password_is_refused(anon_client, user):
    response = anon_client.post(URL, urlencode({"username": user.email, "password": "nope-nope-nope"}),
                                content_type=FORM)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_missing_email_is_a_validation_error_on_email(anon_client):
    response = anon_client.post(URL, {"password": PASSWORD})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "email" in response.json()["error"]["details"]


def test_missing_password_is_a_validation_error_on_password(anon_client, user):
    response = anon_client.post(URL, {"email": user.email})

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


def test_the_token_endpoint_only_accepts_post(anon_client):
    response = anon_client.get(URL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
