"""The tenants resource at /api/v1/tenants/: mine to see, admins' to create, owners' to rename."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.jobs.models import TenantJobLimits
from apps.migrations_app.models import TenantMigrationLimits
from apps.tenants.models import Membership, Tenant
from apps.tenants.services import tenant_policies_set
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/tenants/"


def slugs(response) -> list[str]:
    return [row["slug"] for row in response.json()["results"]]


def test_a_user_lists_only_their_tenants(user_client, other_tenant):
    response = user_client.get(URL)

    assert response.status_code == 200
    assert slugs(response) == ["acme"]


def test_a_member_of_two_tenants_lists_both(mixed_client, tenant, other_tenant):
    response = mixed_client.get(URL)

    assert slugs(response) == ["acme", "globex"]


def test_a_platform_admin_lists_every_tenant(admin_client, tenant, other_tenant):
    response = admin_client.get(URL)

    assert slugs(response) == ["acme", "globex"]


def test_a_member_gets_their_tenant_with_its_limits(user_client, tenant):
    response = user_client.get(f"{URL}{tenant.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["max_concurrent_jobs"], body["max_concurrent_migrations"]) == ("acme", 5, 2)


def test_a_tenant_is_addressed_by_its_slug_as_by_its_id(user_client, tenant):
    """The slug that X-Tenant-ID accepts names the tenant in its URLs too."""
    by_slug = user_client.get(f"{URL}{tenant.slug}/")

    assert by_slug.status_code == 200
    assert by_slug.json() == user_client.get(f"{URL}{tenant.pk}/").json()


def test_the_owner_renames_their_tenant_by_slug(user_client, tenant):
    response = user_client.patch(f"{URL}{tenant.slug}", {"name": "Acme Corp"}, format="json")

    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.name == "Acme Corp"


def test_another_users_tenant_is_not_found_by_slug_either(user_client, other_tenant):
    response = user_client.get(f"{URL}{other_tenant.slug}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_users_tenant_is_not_found(user_client, other_tenant):
    response = user_client.get(f"{URL}{other_tenant.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_platform_admin_creates_a_tenant_and_owns_it(admin_client, admin_user):
    response = admin_client.post(URL, {"name": "Initech", "slug": "initech"})

    assert response.status_code == 201
    created = Tenant.objects.get(pk=response.json()["id"])
    assert created.slug == "initech"
    assert list(created.memberships.values_list("user", "role")) == [(admin_user.pk, "owner")]


def test_a_created_tenant_appears_in_the_creators_me(admin_client):
    admin_client.post(URL, {"name": "Initech", "slug": "initech"})

    response = admin_client.get("/api/v1/auth/me")

    assert "initech" in [row["slug"] for row in response.json()["tenants"]]


@pytest.mark.parametrize("client_name", ["user_client", "second_user_client", "other_tenant_client"])
def test_a_non_admin_cannot_create_a_tenant(request, client_name):
    client = request.getfixturevalue(client_name)

    response = client.post(URL, {"name": "Rogue", "slug": "rogue"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Tenant.objects.filter(slug="rogue").exists()


def test_a_viewer_cannot_create_a_tenant(viewer_client):
    response = viewer_client.post(URL, {"name": "Rogue", "slug": "rogue"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_creating_a_tenant_with_a_taken_slug_is_a_conflict(admin_client, other_tenant):
    response = admin_client.post(URL, {"name": "Another Globex", "slug": "globex"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Tenant.objects.filter(slug="globex").count() == 1


def test_creating_a_tenant_without_a_name_is_a_validation_error(admin_client):
    response = admin_client.post(URL, {"slug": "nameless"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "name" in response.json()["error"]["details"]


def test_the_owner_renames_their_tenant(user_client, tenant):
    response = user_client.patch(f"{URL}{tenant.pk}/", {"name": "Acme Corp"})

    assert response.status_code == 200
    assert response.json()["name"] == "Acme Corp"
    tenant.refresh_from_db()
    assert tenant.name == "Acme Corp"


def test_a_tenant_admin_renames_the_tenant(tenant):
    manager = make_user("manager@example.com", tenant=tenant, membership_role=Membership.Role.ADMIN)

    response = client_for(manager, tenant).patch(f"{URL}{tenant.pk}/", {"name": "Acme Managed"})

    assert response.status_code == 200


def test_a_plain_member_cannot_rename_the_tenant(second_user_client, tenant):
    response = second_user_client.patch(f"{URL}{tenant.pk}/", {"name": "Hijacked"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


def test_a_viewer_cannot_rename_the_tenant(viewer_client, tenant):
    response = viewer_client.patch(f"{URL}{tenant.pk}/", {"name": "Hijacked"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_another_tenants_owner_cannot_rename_this_tenant(other_tenant_client, tenant):
    response = other_tenant_client.patch(f"{URL}{tenant.pk}/", {"name": "Hijacked"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("field, value", [("max_concurrent_jobs", 500), ("max_concurrent_migrations", 50),
                                          ("rate_limit", "100000/m"), ("is_active", False)])
def test_the_owner_cannot_change_limits_or_activation(user_client, tenant, field, value):
    before = user_client.get(f"{URL}{tenant.pk}/").json()[field]

    response = user_client.patch(f"{URL}{tenant.pk}/", {field: value})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert user_client.get(f"{URL}{tenant.pk}/").json()[field] == before


def test_a_platform_admin_changes_the_limits(admin_client, tenant):
    response = admin_client.patch(f"{URL}{tenant.pk}/", {"max_concurrent_jobs": 20, "rate_limit": "600/m"})

    assert response.status_code == 200
    tenant.refresh_from_db()
    assert (TenantJobLimits.objects.get(tenant=tenant).max_concurrent_jobs, tenant.rate_limit) == (20, "600/m")


def test_the_limits_are_kept_by_the_apps_that_enforce_them(admin_client, tenant):
    """Job limits live in the jobs app's table, migration limits in the migrations app's; a change to one
    leaves the other app's defaults alone."""
    response = admin_client.patch(f"{URL}{tenant.pk}/", {"max_concurrent_migrations": 7,
                                                         "migration_roots": ["/srv/acme"]})

    assert response.status_code == 200
    limits = TenantMigrationLimits.objects.get(tenant=tenant)
    assert (limits.max_concurrent_migrations, limits.migration_roots) == (7, ["/srv/acme"])
    assert not TenantJobLimits.objects.filter(tenant=tenant).exists()
    assert response.json()["max_concurrent_jobs"] == 5


def test_a_platform_admin_creates_a_tenant_with_its_limits(admin_client):
    response = admin_client.post(URL, {"name": "Initech", "max_concurrent_jobs": 3, "migration_db_hosts": ["db:5432"]})

    assert response.status_code == 201
    body = admin_client.get(f"{URL}{response.json()['id']}/").json()
    assert (body["max_concurrent_jobs"], body["max_concurrent_migrations"], body["migration_db_hosts"]) == (
        3, 2, ["db:5432"])


def test_listing_tenants_costs_the_same_queries_for_one_tenant_or_many(admin_client, django_assert_num_queries):
    for number in range(5):
        tenant = Tenant.objects.create(name=f"Tenant {number}", slug=f"tenant-{number}")
        tenant_policies_set(tenant=tenant, max_concurrent_jobs=number, max_concurrent_migrations=number)
    admin_client.get(f"{URL}?page_size=1")  # the first request caches who the caller is
    with CaptureQueriesContext(connection) as one_page_of_one:
        admin_client.get(f"{URL}?page_size=1")

    with django_assert_num_queries(len(one_page_of_one)):
        response = admin_client.get(f"{URL}?page_size=50")

    assert len(response.json()["results"]) == 6


def test_a_platform_admin_changes_limits_of_a_tenant_they_do_not_belong_to(admin_client, other_tenant):
    response = admin_client.patch(f"{URL}{other_tenant.pk}/", {"max_concurrent_migrations": 4})

    assert response.status_code == 200
    assert response.json()["max_concurrent_migrations"] == 4


def test_renaming_to_a_taken_slug_is_a_conflict(admin_client, tenant, other_tenant):
    response = admin_client.patch(f"{URL}{tenant.pk}/", {"slug": "globex"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    tenant.refresh_from_db()
    assert tenant.slug == "acme"


def test_the_owner_may_keep_the_current_slug(user_client, tenant):
    response = user_client.patch(f"{URL}{tenant.pk}/", {"slug": "acme", "name": "Acme"})

    assert response.status_code == 200


def test_tenants_cannot_be_deleted_through_the_api(admin_client, tenant):
    response = admin_client.delete(f"{URL}{tenant.pk}/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_tenant_created_without_a_slug_gets_one_from_its_name(admin_client, tenant):
    response = admin_client.post(URL, {"name": "Acme"})

    assert response.status_code == 201
    assert response.json()["slug"] == "acme-2"


def test_a_slug_that_is_not_a_slug_is_a_validation_error_on_slug(admin_client):
    response = admin_client.post(URL, {"name": "Bad", "slug": "not a slug!"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["slug"]


def test_clearing_the_slug_derives_a_new_one_from_the_name(user_client, tenant):
    response = user_client.patch(f"{URL}{tenant.pk}/", {"name": "Acme Rockets", "slug": ""})

    assert response.status_code == 200
    assert response.json()["slug"] == "acme-rockets"


def test_a_platform_admin_narrows_where_a_tenants_migrations_may_go(admin_client, tenant):
    response = admin_client.patch(f"{URL}{tenant.pk}/", {"migration_roots": ["/srv/acme"],
                                                         "migration_db_hosts": ["127.0.0.1"]})

    assert response.status_code == 200
    assert response.json()["migration_roots"] == ["/srv/acme"]


def test_an_owner_cannot_widen_where_migrations_may_go(user_client, tenant):
    response = user_client.patch(f"{URL}{tenant.pk}/", {"migration_roots": ["/"]})

    assert response.status_code == 403


def test_migration_allow_lists_must_be_lists_of_strings(admin_client, tenant):
    response = admin_client.patch(f"{URL}{tenant.pk}/", {"migration_db_hosts": "127.0.0.1"})

    assert response.status_code == 400
    assert "migration_db_hosts" in response.json()["error"]["details"]
