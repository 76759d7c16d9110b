"""How long credentials live: a password change and a deactivation end every token and API key for good, and
logout ends the sign-in of the refresh token given and of the access token that asked."""
import pytest

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
NEW_PASSWORD = "a-brand-new-long-password"


@pytest.fixture
def key_client(user, tenant):
    key = api_key_create(user=user, name="ci", scopes=["tasks:read"], allowed=role_scopes(user.role))
    return TenantAPIClient(tenant=tenant).with_api_key(key.secret)


def still_work(bearer, anon_client, pair, key_client) -> dict:
    return {"access": bearer(pair["access"]).get(ME).status_code,
            "refresh": anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}).status_code,
            "api_key": key_client.get("/api/v1/tasks/").status_code}


DEAD = {"access": 401, "refresh": 401, "api_key": 401}


def test_a_password_change_ends_every_token_and_api_key(user, login, bearer, anon_client, key_client, tenant):
    pair, other_sign_in = login(user.email), login(user.email)
    assert key_client.get("/api/v1/tasks/").status_code == 200

    changed = bearer(pair["access"], tenant).post("/api/v1/auth/password",
                                                   {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert changed.status_code == 204
    assert still_work(bearer, anon_client, other_sign_in, key_client) == DEAD


def test_reactivating_a_user_revives_none_of_their_old_credentials(user, login, bearer, anon_client, key_client,
                                                                   admin_client):
    pair = login(user.email)
    assert admin_client.patch(f"/api/v1/users/{user.pk}/", {"is_active": False}).status_code == 200

    assert admin_client.patch(f"/api/v1/users/{user.pk}/", {"is_active": True}).status_code == 200

    assert still_work(bearer, anon_client, pair, key_client) == DEAD
    assert bearer(login(user.email)["access"]).get(ME).status_code == 200  # a new sign-in works


def test_logout_ends_the_access_token_that_made_the_request(user, login, bearer):
    pair = login(user.email)
    session = bearer(pair["access"])

    assert session.post(LOGOUT_URL, {"refresh": pair["refresh"]}).status_code == 204

    assert session.get(ME).status_code == 401


def test_logout_ends_the_access_tokens_of_the_refresh_token_given(user, login, bearer, anon_client):
    pair = login(user.email)
    rotated = anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}).json()

    anon_client.post(LOGOUT_URL, {"refresh": rotated["refresh"]})

    assert bearer(rotated["access"]).get(ME).status_code == 401


def test_logout_leaves_the_users_other_sign_ins_alive(user, login, bearer, anon_client):
    leaving, staying = login(user.email), login(user.email)

    bearer(leaving["access"]).post(LOGOUT_URL, {"refresh": leaving["refresh"]})

    assert bearer(staying["access"]).get(ME).status_code == 200


def test_a_token_that_belongs_to_no_sign_in_is_refused(user, bearer):
    from rest_framework_simplejwt.tokens import RefreshToken

    access = RefreshToken.for_user(user).access_token  # signed by us, but not issued by a sign-in

    assert bearer(str(access)).get(ME).status_code == 401


def test_an_operator_setting_a_password_in_the_admin_ends_every_credential(user, login, bearer, anon_client,
                                                                           key_client, admin_user):
    from django.test import Client

    pair = login(user.email)
    console = Client()
    console.force_login(admin_user)

    response = console.post(f"/admin/accounts/user/{user.pk}/password/",
                            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})

    assert response.status_code == 302
    assert still_work(bearer, anon_client, pair, key_client) == DEAD
