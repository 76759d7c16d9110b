"""Changing your password through auth/password ends every earlier session."""
import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/password"
NEW_PASSWORD = "a-brand-new-long-password"


@pytest.fixture
def session(user_tokens, bearer, tenant):
    """A client logged in as `user` with a token pair from auth/token."""
    return bearer(user_tokens["access"], tenant)


def test_changing_the_password_answers_204(session):
    response = session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 204


def test_the_new_password_logs_in(session, anon_client, user):
    session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": NEW_PASSWORD})

    assert response.status_code == 200


def test_the_old_password_no_longer_logs_in(session, anon_client, user):
    session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_access_token_issued_before_the_change_stops_working(session):
    session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = session.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_refresh_token_issued_before_the_change_stops_working(session, anon_client, user_tokens):
    session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = anon_client.post("/api/v1/auth/token/refresh", {"refresh": user_tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_rotated_refresh_token_issued_before_the_change_stops_working(session, anon_client, user_tokens):
    rotated = anon_client.post("/api/v1/auth/token/refresh", {"refresh": user_tokens["refresh"]}).json()["refresh"]
    session.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = anon_client.post("/api/v1/auth/token/refresh", {"refresh": rotated})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_wrong_old_password_is_a_validation_error_on_old_password(session):
    response = session.post(URL, {"old_password": "not-my-password", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["old_password"]


def test_a_wrong_old_password_keeps_the_password_and_the_session(session, user):
    session.post(URL, {"old_password": "not-my-password", "new_password": NEW_PASSWORD})

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert session.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize("new_password", ["short", "9876543210987", "user@example.com"])
def test_a_weak_new_password_is_a_validation_error_on_new_password(session, new_password):
    response = session.post(URL, {"old_password": PASSWORD, "new_password": new_password})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["new_password"]


def test_missing_fields_are_validation_errors(session):
    response = session.post(URL, {})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"old_password", "new_password"}


def test_changing_the_password_needs_authentication(anon_client):
    response = anon_client.post(URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
