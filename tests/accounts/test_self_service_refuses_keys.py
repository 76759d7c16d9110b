"""Account self-service is for the person: an API key, even one holding every scope its owner has, cannot change
the profile, the password or the API keys (403 in the envelope). It may still read who it acts for."""
import pytest

from apps.accounts.models import ApiKey
from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_scopes_key(user):
    return api_key_create(user=user, name="everything", scopes=sorted(role_scopes(user.role)),
                          allowed=role_scopes(user.role))


@pytest.fixture(params=["read_only_key", "all_scopes_key"])
def key_client(request, tenant):
    """A client of `user` signed in with a key: the probe's tasks:read key, then one with every scope."""
    return TenantAPIClient(tenant=tenant).with_api_key(request.getfixturevalue(request.param).secret)


def assert_keys_refused(response):
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_key_cannot_change_its_owners_profile(key_client, user):
    assert_keys_refused(key_client.patch("/api/v1/auth/me", {"full_name": "Pwned"}))

    user.refresh_from_db()
    assert user.full_name != "Pwned"


def test_a_key_cannot_change_its_owners_password(key_client, user):
    response = key_client.post("/api/v1/auth/password", {"old_password": PASSWORD,
                                                         "new_password": "taken-over-by-a-script"})

    assert_keys_refused(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_key_cannot_list_create_or_revoke_api_keys(key_client, user, read_only_key):
    assert_keys_refused(key_client.get("/api/v1/auth/api-keys/"))
    assert_keys_refused(key_client.post("/api/v1/auth/api-keys/", {"name": "spawn", "scopes": ["tasks:read"]}))
    assert_keys_refused(key_client.delete(f"/api/v1/auth/api-keys/{read_only_key.pk}/"))

    assert not ApiKey.objects.filter(name="spawn").exists()
    assert ApiKey.objects.get(pk=read_only_key.pk).revoked_at is None


def test_a_key_may_read_who_it_acts_for_and_in_which_tenant(read_only_key_client, user, tenant):
    me = read_only_key_client.get("/api/v1/auth/me")
    active_tenant = read_only_key_client.get("/api/v1/auth/me/tenant")

    assert (me.status_code, me.json()["id"], me.json()["scopes"]) == (200, user.pk, ["tasks:read"])
    assert (active_tenant.status_code, active_tenant.json()["id"]) == (200, tenant.pk)


def test_the_person_signed_in_still_manages_their_account(user_client, user):
    assert user_client.patch("/api/v1/auth/me", {"full_name": "Ada"}).status_code == 200
    assert user_client.post("/api/v1/auth/api-keys/", {"name": "ci", "scopes": ["tasks:read"]}).status_code == 201
    assert user_client.post("/api/v1/auth/password", {"old_password": PASSWORD,
                                                      "new_password": "a-brand-new-long-password"}).status_code == 204
