"""Platform user management at /api/v1/users/, for platform admins only."""
import pytest

from apps.accounts.models import User
from apps.accounts.testing import TenantAPIClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"


def test_an_admin_lists_users(admin_client, user, viewer):
    response = admin_client.get(URL)

    assert response.status_code == 200
    assert [row["email"] for row in response.json()["results"]] == [
        "admin@example.com", "user@example.com", "viewer@example.com"]


def test_an_admin_filters_users_by_role(admin_client, user, viewer):
    response = admin_client.get(URL, {"role": "viewer"})

    assert [row["email"] for row in response.json()["results"]] == ["viewer@example.com"]


def test_an_admin_gets_one_user(admin_client, user):
    response = admin_client.get(f"{URL}{user.pk}/")

    assert response.status_code == 200
    assert (response.json()["email"], response.json()["role"]) == (user.email, "user")
    assert "password" not in response.json()


def test_an_admin_changes_a_users_role(admin_client, user):
    response = admin_client.patch(f"{URL}{user.pk}/", {"role": "viewer"})

    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    user.refresh_from_db()
    assert user.role == User.Role.VIEWER


def test_a_demoted_user_loses_write_scopes_on_the_next_request(admin_client, user, user_client):
    admin_client.patch(f"{URL}{user.pk}/", {"role": "viewer"})

    response = user_client.post("/api/v1/tasks/", {"title": "Too late"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_unknown_role_is_a_validation_error(admin_client, user):
    response = admin_client.patch(f"{URL}{user.pk}/", {"role": "superhero"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_email_is_read_only(admin_client, user):
    admin_client.patch(f"{URL}{user.pk}/", {"email": "renamed@example.com"})

    user.refresh_from_db()
    assert user.email == "user@example.com"


def test_an_admin_deactivates_a_user(admin_client, user):
    response = admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})

    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_deactivation_makes_the_users_access_token_fail_at_once(admin_client, user, user_tokens, bearer):
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})

    response = bearer(user_tokens["access"]).get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_deactivation_makes_the_users_api_key_fail_at_once(admin_client, user, read_only_key, tenant):
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})

    response = TenantAPIClient(tenant=tenant).with_api_key(read_only_key.secret).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_deactivation_makes_the_users_refresh_token_fail(admin_client, user, user_tokens, anon_client):
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})

    response = anon_client.post("/api/v1/auth/token/refresh", {"refresh": user_tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_deactivated_user_cannot_log_in(admin_client, user, anon_client):
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})

    response = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_reactivated_user_can_log_in_again(admin_client, user, anon_client):
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})
    admin_client.patch(f"{URL}{user.pk}/", {"is_active": True})

    response = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_user):
    response = admin_client.patch(f"{URL}{admin_user.pk}/", {"is_active": False})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_an_admin_cannot_change_their_own_role(admin_client, admin_user):
    response = admin_client.patch(f"{URL}{admin_user.pk}/", {"role": "user"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_an_admin_may_edit_their_own_name(admin_client, admin_user):
    response = admin_client.patch(f"{URL}{admin_user.pk}/", {"full_name": "Root", "role": "admin"})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Root"


@pytest.mark.parametrize("client_name", ["user_client", "viewer_client", "other_tenant_client", "mixed_client",
                                         "read_only_key_client"])
def test_non_admins_are_permission_denied(request, client_name):
    client = request.getfixturevalue(client_name)

    response = client.get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_non_admin_cannot_promote_themselves(user_client, user):
    response = user_client.patch(f"{URL}{user.pk}/", {"role": "admin"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    user.refresh_from_db()
    assert user.role == User.Role.USER


def test_anonymous_callers_are_not_authenticated(anon_client):
    response = anon_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("method, path", [("delete", "{URL}{id}/"), ("post", "{URL}{id}/")])
def test_users_cannot_be_deleted_through_the_api(admin_client, user, method, path):
    response = getattr(admin_client, method)(path.format(URL=URL, id=user.pk),
                                             {"email": "x@example.com"} if method == "post" else None)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert User.objects.filter(pk=user.pk).exists()
