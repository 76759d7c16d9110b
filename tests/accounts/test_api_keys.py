"""API keys through auth/api-keys: the secret shown once, scopes never beyond the owner's, revocation at once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/api-keys/"


def key_client(secret: str, tenant=None) -> TenantAPIClient:
    return TenantAPIClient(tenant=tenant).with_api_key(secret)


@pytest.fixture
def created(user_client) -> dict:
    """The response body of creating a tasks:read key through the API."""
    response = user_client.post(URL, {"name": "ci", "scopes": ["tasks:read"]})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def key_manager_key(user):
    """A key of `user` that may read tasks and manage API keys, but not write tasks."""
    return api_key_create(user=user, name="manager", scopes=["api_keys:read", "api_keys:write", "tasks:read"],
                          allowed=role_scopes(user.role))


def test_creating_a_key_shows_its_secret_once(created):
    assert created["key"].startswith(f"tsk_{created['prefix']}_")
    assert (created["name"], created["scopes"], created["revoked_at"]) == ("ci", ["tasks:read"], None)


def test_the_created_secret_authenticates_requests(created, tenant):
    response = key_client(created["key"], tenant).get("/api/v1/tasks/")

    assert response.status_code == 200


def test_only_a_digest_of_the_secret_is_stored(created):
    stored = ApiKey.objects.get(pk=created["id"])

    assert created["key"] not in {stored.digest, stored.prefix, stored.name}
    assert len(stored.digest) == 64


def test_the_list_shows_the_prefix_but_never_the_secret_or_digest(user_client, created):
    response = user_client.get(URL)

    assert response.status_code == 200
    listed = response.json()["results"][0]
    assert (listed["id"], listed["prefix"], listed["key"]) == (created["id"], created["prefix"], None)
    assert created["key"].encode() not in response.content
    assert ApiKey.objects.get(pk=created["id"]).digest.encode() not in response.content
    assert "digest" not in listed


def test_retrieving_a_key_never_shows_the_secret_or_digest(user_client, created):
    response = user_client.get(f"{URL}{created['id']}/")

    assert response.status_code == 200
    assert response.json()["key"] is None
    assert created["key"].encode() not in response.content
    assert ApiKey.objects.get(pk=created["id"]).digest.encode() not in response.content


def test_scopes_beyond_the_owners_are_a_validation_error_on_scopes(user_client):
    response = user_client.post(URL, {"name": "greedy", "scopes": ["tasks:read", "users:write"]})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["scopes"]
    assert not ApiKey.objects.exists()


def test_unknown_scopes_are_a_validation_error_on_scopes(user_client):
    response = user_client.post(URL, {"name": "typo", "scopes": ["taks:read"]})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["scopes"]


def test_a_key_needs_at_least_one_scope(user_client):
    response = user_client.post(URL, {"name": "empty", "scopes": []})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["scopes"]


@pytest.mark.parametrize("scopes", [["tasks:write"], ["tasks:read"]])
def test_a_key_cannot_create_keys_even_holding_the_api_keys_scopes(key_manager_key, scopes):
    """Keys are managed by the person signed in: a key cannot mint a wider key, nor a narrower one."""
    response = key_client(key_manager_key.secret).post(URL, {"name": "spawned", "scopes": scopes})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not ApiKey.objects.filter(name="spawned").exists()


def test_a_key_with_fewer_scopes_can_read(read_only_key_client):
    response = read_only_key_client.get("/api/v1/tasks/")

    assert response.status_code == 200


def test_a_key_with_fewer_scopes_is_permission_denied_on_write(read_only_key_client):
    response = read_only_key_client.post("/api/v1/tasks/", {"title": "Not allowed"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_key_without_api_key_scopes_cannot_create_keys(read_only_key_client):
    response = read_only_key_client.post(URL, {"name": "nested", "scopes": ["tasks:read"]})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_revoking_a_key_answers_204(user_client, created):
    response = user_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204


def test_a_revoked_key_is_refused_at_once(user_client, created, tenant):
    user_client.delete(f"{URL}{created['id']}/")

    response = key_client(created["key"], tenant).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_revoked_key_stays_listed_with_its_revocation_time(user_client, created):
    user_client.delete(f"{URL}{created['id']}/")

    response = user_client.get(f"{URL}{created['id']}/")

    assert response.json()["revoked_at"] is not None


def test_an_expired_key_is_refused(user, tenant):
    key = api_key_create(user=user, name="short-lived", scopes=["tasks:read"], allowed=role_scopes(user.role),
                         expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = key_client(key.secret, tenant).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_key_of_a_deactivated_user_is_refused(read_only_key, user, tenant):
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = key_client(read_only_key.secret, tenant).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("secret", ["garbage", "tsk__nothing", "tsk_000000000000_not-the-secret"])
def test_an_unknown_or_malformed_key_is_refused(secret, tenant):
    response = key_client(secret, tenant).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_right_prefix_with_a_wrong_secret_is_refused(read_only_key, tenant):
    forged = f"tsk_{read_only_key.prefix}_{'x' * 43}"

    response = key_client(forged, tenant).get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_using_a_key_records_when_it_was_last_used(read_only_key_client, read_only_key):
    read_only_key_client.get("/api/v1/tasks/")

    read_only_key.refresh_from_db()
    assert read_only_key.last_used_at is not None


def test_an_expiry_in_the_past_is_a_validation_error_on_expires_at(user_client):
    past = (timezone.now() - timedelta(days=1)).isoformat()

    response = user_client.post(URL, {"name": "stale", "scopes": ["tasks:read"], "expires_at": past})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["expires_at"]
    assert not ApiKey.objects.exists()


def test_an_expiry_in_the_future_is_accepted(user_client):
    future = (timezone.now() + timedelta(days=30)).isoformat()

    response = user_client.post(URL, {"name": "monthly", "scopes": ["tasks:read"], "expires_at": future})

    assert response.status_code == 201
    assert response.json()["expires_at"] is not None


def test_other_users_keys_are_absent_from_my_list(user_client, other_user):
    api_key_create(user=other_user, name="theirs", scopes=["tasks:read"], allowed=role_scopes(other_user.role))

    response = user_client.get(URL)

    assert response.json()["count"] == 0


@pytest.mark.parametrize("method", ["get", "delete"])
def test_other_users_keys_are_not_found(user_client, other_user, method):
    theirs = api_key_create(user=other_user, name="theirs", scopes=["tasks:read"],
                            allowed=role_scopes(other_user.role))

    response = getattr(user_client, method)(f"{URL}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_keys_cannot_be_edited(user_client, created):
    response = user_client.patch(f"{URL}{created['id']}/", {"scopes": ["tasks:write"]})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_key_loses_scopes_its_owner_loses(user, tenant):
    key = api_key_create(user=user, name="writer", scopes=["tasks:read", "tasks:write"],
                         allowed=role_scopes(user.role))
    user.role = "viewer"
    user.save(update_fields=["role"])

    response = key_client(key.secret, tenant).post("/api/v1/tasks/", {"title": "Demoted"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
