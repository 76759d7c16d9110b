"""Choosing the active tenant with X-Tenant-ID (id or slug), and the 403 that reveals nothing."""
import pytest

from apps.tasks.models import Task
from apps.tenants.models import Tenant
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me/tenant"


def error_without_request_id(response) -> dict:
    return {key: value for key, value in response.json()["error"].items() if key != "request_id"}


def test_x_tenant_id_selects_a_tenant_by_id(mixed_client, tenant):
    response = mixed_client.get(URL, HTTP_X_TENANT_ID=str(tenant.pk))

    assert response.status_code == 200
    assert response.json()["id"] == tenant.pk


def test_x_tenant_id_selects_a_tenant_by_slug(mixed_client, other_tenant):
    response = mixed_client.get(URL, HTTP_X_TENANT_ID="globex")

    assert response.status_code == 200
    assert response.json()["id"] == other_tenant.pk


def test_without_the_header_the_users_first_tenant_is_active(mixed_client, other_tenant):
    response = mixed_client.get(URL)

    assert response.json()["id"] == other_tenant.pk


def test_the_header_also_chooses_where_new_rows_go(mixed_user, other_tenant):
    response = client_for(mixed_user).post("/api/v1/tasks/", {"title": "Globex work"},
                                           HTTP_X_TENANT_ID=str(other_tenant.pk))

    assert response.status_code == 201
    assert Task.objects.get(pk=response.json()["id"]).tenant == other_tenant


@pytest.mark.parametrize("header", ["{other_id}", "globex"])
def test_a_non_member_is_permission_denied(user_client, other_tenant, header):
    response = user_client.get(URL, HTTP_X_TENANT_ID=header.format(other_id=other_tenant.pk))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("existing, missing", [("{other_id}", "999999"), ("globex", "no-such-tenant")])
def test_an_existing_and_a_nonexistent_tenant_get_the_same_403_body(user_client, other_tenant, existing, missing):
    for_existing = user_client.get(URL, HTTP_X_TENANT_ID=existing.format(other_id=other_tenant.pk))

    for_missing = user_client.get(URL, HTTP_X_TENANT_ID=missing)

    assert for_existing.status_code == for_missing.status_code == 403
    assert error_without_request_id(for_existing) == error_without_request_id(for_missing)


def test_the_403_for_a_foreign_tenant_does_not_name_it(user_client, other_tenant):
    response = user_client.get(URL, HTTP_X_TENANT_ID=str(other_tenant.pk))

    assert b"Globex" not in response.content and b"globex" not in response.content


def test_a_non_member_cannot_reach_tenant_resources_with_the_header(user_client, other_tenant):
    response = user_client.get("/api/v1/tasks/", HTTP_X_TENANT_ID=str(other_tenant.pk))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("header", ["²", "1¹", "99999999999999999999999999", "-1", "x" * 300])
def test_an_odd_header_is_the_same_403_and_never_a_500(user_client, other_tenant, header):
    expected = user_client.get(URL, HTTP_X_TENANT_ID=str(other_tenant.pk))

    response = user_client.get(URL, HTTP_X_TENANT_ID=header)

    assert response.status_code == 403
    assert error_without_request_id(response) == error_without_request_id(expected)


def test_a_platform_admin_may_enter_any_tenant(admin_user, other_tenant):
    response = client_for(admin_user, other_tenant).get(URL)

    assert response.status_code == 200
    assert response.json()["id"] == other_tenant.pk


def test_a_platform_admin_may_enter_a_tenant_by_slug(admin_user, other_tenant):
    response = client_for(admin_user).get(URL, HTTP_X_TENANT_ID="globex")

    assert response.json()["id"] == other_tenant.pk


def test_a_platform_admin_gets_the_same_403_for_a_nonexistent_tenant(admin_user, user_client, other_tenant):
    expected = user_client.get(URL, HTTP_X_TENANT_ID=str(other_tenant.pk))

    response = client_for(admin_user).get(URL, HTTP_X_TENANT_ID="999999")

    assert response.status_code == 403
    assert error_without_request_id(response) == error_without_request_id(expected)


def test_a_deactivated_tenant_cannot_be_entered_by_its_members(user_client, tenant, other_tenant):
    expected = user_client.get(URL, HTTP_X_TENANT_ID=str(other_tenant.pk))
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)

    response = user_client.get(URL)

    assert response.status_code == 403
    assert error_without_request_id(response) == error_without_request_id(expected)


def test_a_user_without_tenants_is_permission_denied_on_tenant_resources(db):
    loner = make_user("loner@example.com")

    response = client_for(loner).get("/api/v1/tasks/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
