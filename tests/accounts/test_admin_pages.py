"""The Django admin at /admin/ for accounts and tenants: it renders, and never shows a secret or a digest."""
import pytest
from django.test import Client

from apps.accounts.models import User
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.jobs.models import TenantJobLimits
from apps.migrations_app.models import TenantMigrationLimits
from apps.tenants.models import Membership
from apps.tenants.services import tenant_policies_set
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db



@pytest.fixture
def key(user):
    return api_key_create(user=user, name="deploy-bot", scopes=["tasks:read"], allowed=role_scopes(user.role))


def test_the_user_changelist_lists_users_with_their_role(console, user, viewer):
    response = console.get("/admin/accounts/user/")

    assert response.status_code == 200
    html = response.content.decode()
    assert user.email in html and viewer.email in html
    assert "Viewer" in html


def test_the_user_changelist_searches_by_email(console, user, viewer):
    response = console.get("/admin/accounts/user/", {"q": "viewer@"})

    assert viewer.email in response.content.decode()
    assert user.email not in response.content.decode()


def test_the_user_change_page_renders_without_the_password_hash(console, user):
    response = console.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert 'name="role"' in response.content.decode()
    assert user.password.encode() not in response.content


def test_deactivating_a_user_in_the_admin_ends_their_sessions(console, user, anon_client):
    refresh = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}).json()["refresh"]
    form = {"email": user.email, "full_name": "", "role": "user", "is_staff": "", "is_superuser": ""}

    response = console.post(f"/admin/accounts/user/{user.pk}/change/", form)

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert anon_client.post("/api/v1/auth/token/refresh", {"refresh": refresh}).status_code == 401


def test_the_user_add_page_creates_a_user_who_can_log_in(console, anon_client):
    form = {"email": "added@example.com", "password1": PASSWORD, "password2": PASSWORD}

    response = console.post("/admin/accounts/user/add/", form)

    assert response.status_code == 302
    assert anon_client.post("/api/v1/auth/token", {"email": "added@example.com", "password": PASSWORD}
                            ).status_code == 200


def test_a_mixed_case_email_added_in_the_admin_can_log_in(console, anon_client):
    form = {"email": "Mixed.Case@Example.com", "password1": PASSWORD, "password2": PASSWORD}
    console.post("/admin/accounts/user/add/", form)

    response = anon_client.post("/api/v1/auth/token", {"email": "mixed.case@example.com", "password": PASSWORD})

    assert response.status_code == 200


def test_the_admin_refuses_an_email_that_differs_only_in_case(console, user):
    form = {"email": "USER@example.com", "password1": PASSWORD, "password2": PASSWORD}

    response = console.post("/admin/accounts/user/add/", form)

    assert response.status_code == 200  # the form is shown again with an error
    assert User.objects.filter(email__iexact=user.email).count() == 1


def test_the_api_key_changelist_shows_the_prefix_but_never_the_digest(console, key):
    response = console.get("/admin/accounts/apikey/")

    assert response.status_code == 200
    assert key.prefix.encode() in response.content
    assert key.digest.encode() not in response.content
    assert key.secret.encode() not in response.content


def test_the_api_key_change_page_never_shows_the_digest(console, key):
    response = console.get(f"/admin/accounts/apikey/{key.pk}/change/")

    assert response.status_code == 200
    assert key.prefix.encode() in response.content
    assert key.digest.encode() not in response.content


def test_api_keys_cannot_be_added_in_the_admin(console):
    response = console.get("/admin/accounts/apikey/add/")

    assert response.status_code == 403


def test_the_revoke_action_revokes_the_selected_keys(console, key):
    response = console.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_key_revoked_in_the_admin_is_refused_by_the_api(console, key, tenant):
    console.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})

    response = TenantAPIClient(tenant=tenant).with_api_key(key.secret).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_the_tenant_changelist_lists_tenants(console, tenant, other_tenant):
    response = console.get("/admin/tenants/tenant/")

    assert response.status_code == 200
    assert b"Acme" in response.content and b"globex" in response.content


def test_the_tenant_change_page_shows_memberships_inline(console, tenant, user, second_user):
    response = console.get(f"/admin/tenants/tenant/{tenant.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="memberships-TOTAL_FORMS" value="2"' in html
    assert user.email in html and second_user.email in html


def test_a_membership_role_can_be_changed_inline(console, tenant, user, second_user):
    memberships = list(Membership.objects.filter(tenant=tenant).order_by("created_at", "pk"))
    form = {"name": tenant.name, "slug": tenant.slug, "is_active": "on", "max_concurrent_jobs": 5,
            "max_concurrent_migrations": 2, "rate_limit": "",
            "memberships-TOTAL_FORMS": 2, "memberships-INITIAL_FORMS": 2,
            "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}
    for index, membership in enumerate(memberships):
        form.update({f"memberships-{index}-id": membership.pk, f"memberships-{index}-tenant": tenant.pk,
                     f"memberships-{index}-user": membership.user_id, f"memberships-{index}-role": membership.role})
    form["memberships-1-role"] = "admin"

    response = console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)

    assert response.status_code == 302
    assert Membership.objects.get(tenant=tenant, user=second_user).role == "admin"


def test_the_tenant_change_page_edits_the_limits_each_app_keeps(console, tenant):
    """The limits are fields of the tenant's page as before; saving writes them into the jobs and migrations apps'
    own tables, and a limit the form did not send keeps its value."""
    tenant_policies_set(tenant=tenant, migration_roots=["/srv/acme"])
    page = console.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert 'name="max_concurrent_jobs"' in page and 'name="migration_db_hosts"' in page
    form = {"name": tenant.name, "slug": tenant.slug, "is_active": "on", "max_concurrent_jobs": 9,
            "max_concurrent_migrations": 2, "rate_limit": "", "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0, "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}

    response = console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)

    assert response.status_code == 302
    assert TenantJobLimits.objects.get(tenant=tenant).max_concurrent_jobs == 9
    assert TenantMigrationLimits.objects.get(tenant=tenant).migration_roots == ["/srv/acme"]


def test_the_tenant_change_page_refuses_a_limit_the_api_refuses(console, tenant):
    form = {"name": tenant.name, "slug": tenant.slug, "is_active": "on", "max_concurrent_jobs": 5,
            "max_concurrent_migrations": 2, "rate_limit": "", "migration_roots": '"/srv"',
            "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0, "memberships-MIN_NUM_FORMS": 0,
            "memberships-MAX_NUM_FORMS": 1000}

    response = console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)

    assert response.status_code == 200 and b"Must be a list of non-empty strings." in response.content
    assert not TenantMigrationLimits.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("path", [
    "/admin/", "/admin/accounts/user/", "/admin/accounts/user/{user_id}/change/", "/admin/accounts/apikey/",
    "/admin/accounts/apikey/{key_id}/change/", "/admin/tenants/tenant/", "/admin/tenants/tenant/{tenant_id}/change/",
    "/admin/tenants/tenant/{tenant_id}/history/", "/admin/accounts/apikey/{key_id}/history/",
])
def test_no_admin_page_shows_a_secret_or_a_digest(console, key, user, tenant, path):
    response = console.get(path.format(user_id=user.pk, key_id=key.pk, tenant_id=tenant.pk))

    assert response.status_code == 200
    assert key.secret.encode() not in response.content
    assert key.digest.encode() not in response.content
    assert b"digest" not in response.content.lower()
    assert user.password.encode() not in response.content


def test_the_admin_refuses_users_who_are_not_staff(user):
    client = Client()
    client.force_login(user)

    response = client.get("/admin/accounts/apikey/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_no_admin_page_shows_a_refresh_token(console, user, anon_client):
    """simplejwt's blacklist admin would list every outstanding refresh token in full: live credentials."""
    signed_in = anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}).json()
    pages = ["/admin/"] + [f"/admin/token_blacklist/{model}/" for model in ("outstandingtoken", "blacklistedtoken")]

    for page in pages:
        response = console.get(page)
        assert response.status_code in (200, 404), page
        assert signed_in["refresh"].encode() not in response.content, page
        assert b"token_blacklist" not in response.content, page
