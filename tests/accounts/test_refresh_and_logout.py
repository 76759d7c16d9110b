"""Refresh-token rotation through auth/token/refresh, and logout through auth/logout."""
import pytest

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"


def test_refreshing_returns_a_new_pair(anon_client, user_tokens):
    response = anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]})

    assert response.status_code == 200
    body = response.json()
    assert body["access"] != user_tokens["access"]
    assert body["refresh"] != user_tokens["refresh"]
    assert body["token_type"] == "bearer"


def test_the_refreshed_access_token_authenticates_requests(anon_client, user_tokens, bearer):
    access = anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]}).json()["access"]

    response = bearer(access).get("/api/v1/auth/me")

    assert response.status_code == 200


def test_reusing_a_rotated_refresh_token_is_token_invalid(anon_client, user_tokens):
    anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]})

    response = anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_the_refresh_token_from_a_rotation_can_be_rotated_again(anon_client, user_tokens):
    rotated = anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]}).json()["refresh"]

    response = anon_client.post(REFRESH_URL, {"refresh": rotated})

    assert response.status_code == 200


def test_a_malformed_refresh_token_is_token_invalid(anon_client):
    response = anon_client.post(REFRESH_URL, {"refresh": "not.a.token"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_an_access_token_is_not_accepted_as_a_refresh_token(anon_client, user_tokens):
    response = anon_client.post(REFRESH_URL, {"refresh": user_tokens["access"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_refreshing_without_a_token_is_a_validation_error_on_refresh(anon_client):
    response = anon_client.post(REFRESH_URL, {})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "refresh" in response.json()["error"]["details"]


def test_logout_answers_204(anon_client, user_tokens):
    response = anon_client.post(LOGOUT_URL, {"refresh": user_tokens["refresh"]})

    assert response.status_code == 204
    assert response.content == b""


def test_a_logged_out_refresh_token_cannot_be_refreshed(anon_client, user_tokens):
    anon_client.post(LOGOUT_URL, {"refresh": user_tokens["refresh"]})

    response = anon_client.post(REFRESH_URL, {"refresh": user_tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_logging_out_twice_with_the_same_token_is_token_invalid(anon_client, user_tokens):
    anon_client.post(LOGOUT_URL, {"refresh": user_tokens["refresh"]})

    response = anon_client.post(LOGOUT_URL, {"refresh": user_tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_logout_with_a_malformed_token_is_token_invalid(anon_client):
    response = anon_client.post(LOGOUT_URL, {"refresh": "garbage"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_logging_out_one_session_leaves_another_alive(anon_client, user, login):
    first, second = login(user.email), login(user.email)
    anon_client.post(LOGOUT_URL, {"refresh": first["refresh"]})

    response = anon_client.post(REFRESH_URL, {"refresh": second["refresh"]})

    assert response.status_code == 200
