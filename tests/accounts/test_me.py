"""You, through auth/me and auth/me/tenant."""
import pytest

from apps.accounts.models import User
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me"


def test_me_shows_the_platform_role(user_client, user):
    response = user_client.get(URL)

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (user.pk, "user")


def test_me_shows_the_scopes_held_in_the_active_tenant(user_client):
    response = user_client.get(URL)

    assert {"tasks:read", "tasks:write", "tasks:delete"} <= set(response.json()["scopes"])
    assert "users:read" not in response.json()["scopes"]


def test_me_lists_the_tenants_with_the_membership_role(user_client, tenant):
    response = user_client.get(URL)

    assert response.json()["tenants"] == [{"id": tenant.pk, "slug": "acme", "name": "Acme", "role": "owner"}]


def test_a_viewer_holds_only_read_scopes(viewer_client):
    response = viewer_client.get(URL)

    scopes = response.json()["scopes"]
    assert "tasks:read" in scopes
    assert all(scope.endswith(":read") for scope in scopes)


def test_an_admin_holds_the_admin_only_scopes(admin_client):
    response = admin_client.get(URL)

    assert {"users:read", "users:write"} <= set(response.json()["scopes"])


def test_a_viewer_membership_narrows_scopes_in_that_tenant_only(mixed_client, tenant, other_tenant):
    in_tenant = mixed_client.get(URL, HTTP_X_TENANT_ID=str(tenant.pk)).json()["scopes"]

    in_other = mixed_client.get(URL, HTTP_X_TENANT_ID=str(other_tenant.pk)).json()["scopes"]

    assert "tasks:write" not in in_tenant
    assert "tasks:write" in in_other


def test_an_api_key_narrows_the_scopes_to_the_key(read_only_key_client):
    response = read_only_key_client.get(URL)

    assert response.json()["scopes"] == ["tasks:read"]


def test_me_never_shows_the_password(user_client, user):
    response = user_client.get(URL)

    assert "password" not in response.json()
    assert user.password.encode() not in response.content


def test_patch_changes_the_full_name(user_client, user):
    response = user_client.patch(URL, {"full_name": "Ada Lovelace"})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada Lovelace"
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"


def test_a_role_in_the_patch_body_is_ignored(user_client, user):
    response = user_client.patch(URL, {"full_name": "Still a user", "role": "admin", "is_staff": True})

    assert response.status_code == 200
    assert response.json()["role"] == "user"
    user.refresh_from_db()
    assert (user.role, user.is_staff) == (User.Role.USER, False)


def test_patch_without_full_name_is_a_validation_error(user_client):
    response = user_client.patch(URL, {"role": "admin"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "full_name" in response.json()["error"]["details"]


def test_me_needs_authentication(anon_client):
    response = anon_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_garbage_bearer_token_is_token_invalid(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = anon_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_me_tenant_without_a_header_is_the_first_tenant(mixed_user, other_tenant):
    response = client_for(mixed_user).get(f"{URL}/tenant")

    assert response.status_code == 200
    assert response.json()["id"] == other_tenant.pk


def test_me_tenant_honours_x_tenant_id(mixed_client, tenant):
    response = mixed_client.get(f"{URL}/tenant", HTTP_X_TENANT_ID=str(tenant.pk))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["slug"]) == (tenant.pk, "acme")


def test_me_tenant_accepts_a_slug(mixed_client, tenant):
    response = mixed_client.get(f"{URL}/tenant", HTTP_X_TENANT_ID="acme")

    assert response.json()["id"] == tenant.pk


def test_me_tenant_of_a_user_without_tenants_is_permission_denied(db):
    loner = make_user("loner@example.com")

    response = client_for(loner).get(f"{URL}/tenant")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
