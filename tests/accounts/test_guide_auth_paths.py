"""The Migration Assistant guide's ways in at its own paths: `POST /auth/token` with `{username, password}`
answering OAuth2's field names, `X-API-Key` on the root paths, and the API summary's `/auth/users` and
`/auth/api-keys` (the same views as under /api/v1/, mounted at the root)."""
import logging
from urllib.parse import urlencode

import pytest

from apps.accounts.models import ApiKey, User
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.audit.models import AuditLog
from apps.tenants.models import Membership
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


# --- POST /auth/token ------------------------------------------------------------------------------------------
def test_the_guides_json_login_answers_oauth2_fields_beside_tessera_s(anon_client, user):
    response = anon_client.post("/auth/token", {"username": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] == body["access"]
    assert body["refresh_token"] == body["refresh"]
    me = TenantAPIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.get("/auth/me").json()["email"] == user.email


def test_the_summarys_form_login_works_at_the_root_too(anon_client, user):
    response = anon_client.post("/auth/token", urlencode({"username": user.email, "password": PASSWORD}),
                                content_type=FORM)

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_a_wrong_password_at_the_root_is_401(anon_client, user):
    response = anon_client.post("/auth/token", {"username": user.email, "password": "wrong-password-1"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_the_refresh_token_grant_rotates_tessera_s_refresh_token(anon_client, user, login):
    pair = login(user.email)

    response = anon_client.post("/auth/token", urlencode({"grant_type": "refresh_token",
                                                          "refresh_token": pair["refresh"]}), content_type=FORM)

    assert response.status_code == 200
    assert response.json()["refresh_token"] != pair["refresh"]
    reused = anon_client.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert reused.status_code == 401  # rotated: the old one is spent


def test_an_unknown_grant_type_is_a_400_naming_it(anon_client, user):
    response = anon_client.post("/auth/token", {"grant_type": "client_credentials", "username": user.email,
                                                "password": PASSWORD})

    assert response.status_code == 400
    assert "grant_type" in response.json()["error"]["details"]


@pytest.mark.parametrize("body", [{"grant_type": ["refresh_token"]}, {"grant_type": {"a": 1}},
                                  {"grant_type": "refresh_token", "refresh_token": ["a.b.c"]}])
def test_a_grant_of_the_wrong_type_is_a_4xx_never_a_500(anon_client, body):
    response = anon_client.post("/auth/token", body, format="json")

    assert response.status_code in (400, 401)


def test_a_client_grant_sent_as_json_gets_oauth2s_error(anon_client):
    response = anon_client.post("/auth/token", {"grant_type": "authorization_code", "code": "x"}, format="json")

    assert response.status_code in (400, 401)
    assert isinstance(response.json()["error"], str)  # OAuth2's format: a code, not the envelope


def test_an_api_key_works_on_the_root_paths(read_only_key):
    client = TenantAPIClient().with_api_key(read_only_key.secret)

    response = client.get("/auth/me")

    assert response.status_code == 200
    assert response.json()["scopes"] == ["tasks:read"]


# --- /auth/users ------------------------------------------------------------------------------------------------
def test_an_admin_opens_an_account_who_then_signs_in(admin_client, anon_client):
    response = admin_client.post("/auth/users", {"email": "New@Example.com", "password": PASSWORD,
                                                 "full_name": "New Person", "role": "viewer"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["role"], body["is_active"]) == ("new@example.com", "viewer", True)
    assert "password" not in body
    created = User.objects.get(pk=body["id"])
    assert Membership.objects.filter(user=created, role=Membership.Role.OWNER).count() == 1  # a personal tenant
    assert AuditLog.objects.filter(event=AuditLog.Event.ROLE_CHANGED, details__user_id=created.pk).exists()
    signed_in = anon_client.post("/auth/token", {"username": "new@example.com", "password": PASSWORD})
    assert signed_in.status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"email": "n@example.com"}, "password"),
    ({"email": "n@example.com", "password": "short"}, "password"),
    ({"email": "not-an-email", "password": PASSWORD}, "email"),
    ({"email": "n@example.com", "password": PASSWORD, "role": "overlord"}, "role"),
])
def test_a_bad_account_is_a_400_naming_the_field(admin_client, body, field):
    response = admin_client.post("/auth/users", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not User.objects.filter(email="n@example.com").exists()


def test_an_email_already_taken_is_a_conflict(admin_client, user):
    response = admin_client.post("/auth/users", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 409


def test_only_platform_admins_manage_users(user_client):
    assert user_client.get("/auth/users").status_code == 403
    assert user_client.post("/auth/users", {"email": "n@example.com", "password": PASSWORD}).status_code == 403
    assert not User.objects.filter(email="n@example.com").exists()


@pytest.mark.parametrize("name", ["email", "upper-case email", "id"])
def test_a_user_is_named_by_email_or_id(admin_client, user, name):
    value = {"email": user.email, "upper-case email": user.email.upper(), "id": str(user.pk)}[name]

    response = admin_client.get(f"/auth/users/{value}")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_an_unknown_user_is_404(admin_client):
    assert admin_client.get("/auth/users/nobody@example.com").status_code == 404


@pytest.mark.parametrize("path", ["/auth/nothing-here", "/auth/api-keys/%C2%84/", "/auth/tenants/a%20b"])
def test_an_unknown_path_under_auth_is_the_404_envelope(user_client, path):
    response = user_client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/auth/users/a%00b", "/api/v1/users/a%00b/", "/auth/users/%C2%B2"])
def test_a_user_name_no_database_accepts_is_404_not_500(admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_an_admin_lists_users_at_the_root(admin_client, user, viewer):
    response = admin_client.get("/auth/users")

    assert [row["email"] for row in response.json()["results"]] == [
        "admin@example.com", "user@example.com", "viewer@example.com"]


def test_a_password_is_not_changed_through_user_management(admin_client, user):
    response = admin_client.patch(f"/api/v1/users/{user.pk}/", {"password": "another-long-password"})

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- the admin scope ---------------------------------------------------------------------------------------------
def test_an_admin_key_holds_every_scope_of_its_admin(admin_user):
    key = api_key_create(user=admin_user, name="ops", scopes=["admin"], allowed=role_scopes(admin_user.role))
    client = TenantAPIClient().with_api_key(key.secret)

    assert client.get("/auth/users").status_code == 200
    assert "users:write" in client.get("/auth/me").json()["scopes"]


def test_the_admin_scope_is_not_a_users_to_grant(user_client):
    response = user_client.post("/auth/api-keys", {"name": "sneaky", "scopes": ["admin"]})

    assert response.status_code == 400
    assert "admin" in str(response.json()["error"]["details"]["scopes"])


def test_a_key_with_the_admin_scope_of_a_demoted_admin_gains_nothing(admin_user, tenant):
    key = api_key_create(user=admin_user, name="ops", scopes=["admin"], allowed=role_scopes(admin_user.role))
    User.objects.filter(pk=admin_user.pk).update(role=User.Role.USER)
    Membership.objects.create(tenant=tenant, user=admin_user)

    response = TenantAPIClient(tenant=tenant).with_api_key(key.secret).get("/auth/users")

    assert response.status_code == 403


# --- /auth/api-keys ----------------------------------------------------------------------------------------------
def test_a_key_is_created_and_listed_at_the_root_and_its_secret_shown_once(user_client):
    created = user_client.post("/auth/api-keys", {"name": "ci", "scopes": ["tasks:read"]})

    assert created.status_code == 201
    secret = created.json()["key"]
    assert secret.startswith("tsk_")
    listed = user_client.get("/auth/api-keys")
    assert [row["name"] for row in listed.json()["results"]] == ["ci"]
    assert secret not in listed.content.decode()
    assert secret not in user_client.get(f"/auth/api-keys/{created.json()['id']}").content.decode()


def test_a_key_is_deleted_by_id(user_client, read_only_key):
    response = user_client.delete(f"/auth/api-keys/{read_only_key.pk}")

    assert response.status_code == 204
    assert TenantAPIClient().with_api_key(read_only_key.secret).get("/auth/me").status_code == 401


def test_a_key_is_deleted_by_the_key_itself_and_never_written_down(user_client, read_only_key, caplog):
    with caplog.at_level(logging.INFO, logger="tessera.requests"):
        response = user_client.delete(f"/auth/api-keys/{read_only_key.secret}")

    assert response.status_code == 204
    assert response.content == b""
    assert TenantAPIClient().with_api_key(read_only_key.secret).get("/auth/me").status_code == 401
    secret_part = read_only_key.secret.split("_", 2)[2]
    assert "/auth/api-keys/tsk_" in caplog.text
    assert secret_part not in caplog.text
    revoked = AuditLog.objects.get(event=AuditLog.Event.API_KEY_REVOKED)
    assert revoked.path.startswith(f"/auth/api-keys/tsk_{read_only_key.prefix}_")
    assert secret_part not in revoked.path


def test_a_wrong_secret_with_a_real_prefix_finds_no_key(user_client, read_only_key):
    forged = f"tsk_{read_only_key.prefix}_{'x' * 43}"

    response = user_client.delete(f"/auth/api-keys/{forged}")

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=read_only_key.pk).revoked_at is None


def test_another_users_key_is_404_by_key_or_id(other_tenant_client, read_only_key):
    assert other_tenant_client.delete(f"/auth/api-keys/{read_only_key.secret}").status_code == 404
    assert other_tenant_client.delete(f"/auth/api-keys/{read_only_key.pk}").status_code == 404
    assert ApiKey.objects.get(pk=read_only_key.pk).revoked_at is None


def test_keys_are_managed_by_their_owner_signed_in_not_by_a_key(read_only_key_client, read_only_key):
    response = read_only_key_client.delete(f"/auth/api-keys/{read_only_key.secret}")

    assert response.status_code == 403
    assert ApiKey.objects.get(pk=read_only_key.pk).revoked_at is None


def test_a_viewer_signed_in_at_the_root_reads_but_does_not_write(viewer):
    client = client_for(viewer)

    assert client.get("/auth/me").status_code == 200
    assert client.get("/auth/users").status_code == 403
