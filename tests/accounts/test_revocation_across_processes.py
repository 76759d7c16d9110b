"""A security change holds on the very next request in every server process, though each caches who its callers
are (apps.accounts.auth_cache): the cache is Redis, shared by all, and every change clears it.

Two real servers, A and B. Each test warms A's view of a caller (two requests, the second served from the cache),
changes something through B, or through a service in this process, and shows that A's next request is refused
or narrowed.
"""
import json

import pytest

from apps.accounts.models import User
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create, api_key_revoke, token_pair_issue
from apps.tasks.models import Task
from apps.tenants.models import Membership
from tests.conftest import PASSWORD
from tests.servers import running_servers
from tests.workers import scaled_out_environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def servers(django_db_setup):
    with running_servers(scaled_out_environment()) as started:
        yield started


def bearer(user, tenant, *, pair: dict | None = None) -> dict:
    """Headers of a fresh sign-in of `user` (or of the sign-in `pair`) in `tenant`."""
    access = (pair or token_pair_issue(user))["access"]
    return {"Authorization": f"Bearer {access}", "X-Tenant-ID": str(tenant.pk)}


def with_key(key, tenant) -> dict:
    return {"X-API-Key": key.secret, "X-Tenant-ID": str(tenant.pk)}


def call(server, method: str, path: str, headers: dict, body: dict | None = None) -> int:
    status, _, _ = server.request(method, path, headers={"Content-Type": "application/json", **headers},
                                  body=json.dumps(body).encode() if body is not None else None)
    return status


def warmed(server, path: str, *callers: dict) -> None:
    """Each caller is let in twice by `server`; the second time from the cache."""
    for headers in callers:
        assert [call(server, "GET", path, headers) for _ in range(2)] == [200, 200]


@pytest.fixture
def task(user, tenant):
    return Task.objects.create(tenant=tenant, user=user, title="Guarded")


@pytest.fixture
def key(user):
    return api_key_create(user=user, name="script", scopes=["tasks:read", "tasks:write"],
                          allowed=role_scopes(user.role))


def test_a_password_changed_through_one_server_ends_the_tokens_and_keys_the_other_server_let_in(
        servers, user, tenant, task, key):
    a, b = servers
    token, detail = bearer(user, tenant), f"/api/v1/tasks/{task.pk}/"
    warmed(a, detail, token, with_key(key, tenant))

    assert call(b, "POST", "/api/v1/auth/password", token,
                {"old_password": PASSWORD, "new_password": "a-brand-new-password-42"}) == 204

    assert call(a, "GET", detail, token) == 401
    assert call(a, "GET", detail, with_key(key, tenant)) == 401


def test_a_password_set_outside_the_api_ends_the_tokens_the_servers_let_in(servers, user, tenant, task):
    """As the operator console and `manage.py changepassword` set it: set_password and save."""
    a, _ = servers
    token, detail = bearer(user, tenant), f"/api/v1/tasks/{task.pk}/"
    warmed(a, detail, token)

    user.set_password("set-by-an-operator-77")
    user.save()

    assert call(a, "GET", detail, token) == 401


def test_a_deactivation_through_one_server_ends_every_credential_at_the_other(
        servers, admin_user, user, tenant, task, key):
    a, b = servers
    token, detail = bearer(user, tenant), f"/api/v1/tasks/{task.pk}/"
    warmed(a, detail, token, with_key(key, tenant))

    assert call(b, "PATCH", f"/api/v1/users/{user.pk}/", bearer(admin_user, tenant), {"is_active": False}) == 200

    assert call(a, "GET", detail, token) == 401
    assert call(a, "GET", detail, with_key(key, tenant)) == 401


def test_a_platform_role_lowered_through_one_server_narrows_the_other_at_once(servers, admin_user, user, tenant, task):
    a, b = servers
    token = bearer(user, tenant)
    warmed(a, f"/api/v1/tasks/{task.pk}/", token)
    assert call(a, "POST", "/api/v1/tasks/", token, {"title": "Still allowed"}) == 201

    assert call(b, "PATCH", f"/api/v1/users/{user.pk}/", bearer(admin_user, tenant), {"role": "viewer"}) == 200

    assert call(a, "POST", "/api/v1/tasks/", token, {"title": "Now refused"}) == 403
    assert call(a, "GET", "/api/v1/tasks/", token) == 200  # a viewer still reads


def test_a_membership_role_lowered_through_one_server_narrows_the_other_at_once(
        servers, user, second_user, tenant):
    a, b = servers
    member = bearer(second_user, tenant)
    warmed(a, "/api/v1/tasks/", member)
    assert call(a, "POST", "/api/v1/tasks/", member, {"title": "Still allowed"}) == 201

    assert call(b, "PATCH", f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}", bearer(user, tenant),
                {"role": Membership.Role.VIEWER}) == 200

    assert call(a, "POST", "/api/v1/tasks/", member, {"title": "Now refused"}) == 403


def test_a_member_removed_through_one_server_is_refused_by_the_other_at_once(servers, user, second_user, tenant):
    a, b = servers
    member = bearer(second_user, tenant)
    warmed(a, "/api/v1/tasks/", member)

    assert call(b, "DELETE", f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}", bearer(user, tenant)) == 204

    assert call(a, "GET", "/api/v1/tasks/", member) == 403


def test_a_tenant_deactivated_through_one_server_is_closed_on_the_other_at_once(servers, admin_user, user, tenant):
    a, b = servers
    owner = bearer(user, tenant)
    warmed(a, "/api/v1/tasks/", owner)

    assert call(b, "PATCH", f"/api/v1/tenants/{tenant.pk}/", bearer(admin_user, tenant), {"is_active": False}) == 200

    assert call(a, "GET", "/api/v1/tasks/", owner) == 403


def test_a_key_revoked_through_one_server_is_refused_by_the_other_at_once(servers, user, tenant, task, key):
    a, b = servers
    warmed(a, f"/api/v1/tasks/{task.pk}/", with_key(key, tenant))

    assert call(b, "DELETE", f"/api/v1/auth/api-keys/{key.pk}/", bearer(user, tenant)) == 204

    assert call(a, "GET", f"/api/v1/tasks/{task.pk}/", with_key(key, tenant)) == 401


def test_a_key_revoked_by_the_service_is_refused_by_every_server_at_once(servers, user, tenant, task, key):
    warmed(servers[0], f"/api/v1/tasks/{task.pk}/", with_key(key, tenant))
    warmed(servers[1], f"/api/v1/tasks/{task.pk}/", with_key(key, tenant))

    api_key_revoke(key)

    assert [call(server, "GET", f"/api/v1/tasks/{task.pk}/", with_key(key, tenant)) for server in servers] == [401, 401]


def test_a_logout_through_one_server_ends_the_sign_in_on_the_other_at_once(servers, user, tenant, task):
    a, b = servers
    pair = token_pair_issue(user)
    token = bearer(user, tenant, pair=pair)
    warmed(a, f"/api/v1/tasks/{task.pk}/", token)

    assert call(b, "POST", "/api/v1/auth/logout", token, {"refresh": pair["refresh"]}) == 204

    assert call(a, "GET", f"/api/v1/tasks/{task.pk}/", token) == 401


def test_a_role_lowered_in_the_database_by_a_service_holds_for_keys_too(servers, admin_user, user, tenant, task, key):
    """A key's cached state carries its owner's: a change to the owner clears the key's too."""
    a, _ = servers
    warmed(a, f"/api/v1/tasks/{task.pk}/", with_key(key, tenant))
    assert call(a, "POST", "/api/v1/tasks/", with_key(key, tenant), {"title": "Still allowed"}) == 201

    user.role = User.Role.VIEWER
    user.save(update_fields=["role"])

    assert call(a, "POST", "/api/v1/tasks/", with_key(key, tenant), {"title": "Now refused"}) == 403
