"""Members of a tenant under /api/v1/tenants/{id}/members/: owners and admins manage, a tenant keeps an owner.

Adding a member is an invitation (202) that the invitee accepts under /api/v1/auth/invitations/
(tests/tenants/test_invitations.py covers the invitation itself).
"""
import pytest

from apps.tenants.models import Membership
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def members_url(tenant, user=None) -> str:
    base = f"/api/v1/tenants/{tenant.pk}/members/"
    return f"{base}{user.pk}/" if user is not None else base


def role_of(user, tenant) -> str | None:
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    return membership.role if membership else None


@pytest.fixture
def newcomer(db):
    return make_user("newcomer@example.com")


def accepted(invited, invitee):
    """The invitee's answer to the invitation in the `invited` response: accepting it."""
    assert invited.status_code == 202, invited.content
    return client_for(invitee).post(f"/api/v1/auth/invitations/{invited.json()['id']}/accept")


def test_the_owner_lists_the_members_with_their_roles(user_client, tenant, user, second_user, viewer):
    response = user_client.get(members_url(tenant))

    assert response.status_code == 200
    assert [(row["user_id"], row["email"], row["role"]) for row in response.json()] == [
        (user.pk, user.email, "owner"), (second_user.pk, second_user.email, "member"),
        (viewer.pk, viewer.email, "member")]


def test_the_members_are_listed_and_managed_under_the_tenants_slug(user_client, tenant, second_user):
    base = f"/api/v1/tenants/{tenant.slug}/members/"

    listed = user_client.get(base)
    promoted = user_client.patch(f"{base}{second_user.pk}/", {"role": "admin"}, format="json")

    assert listed.status_code == 200 and second_user.email in [row["email"] for row in listed.json()]
    assert promoted.status_code == 200
    assert role_of(second_user, tenant) == "admin"


def test_a_tenant_admin_lists_the_members(tenant_admin_client, tenant):
    response = tenant_admin_client.get(members_url(tenant))

    assert response.status_code == 200


def test_a_platform_admin_lists_the_members_of_any_tenant(admin_client, other_tenant, other_user):
    response = admin_client.get(members_url(other_tenant))

    assert response.status_code == 200
    assert [row["email"] for row in response.json()] == [other_user.email]


@pytest.mark.parametrize("client_name", ["second_user_client", "viewer_client"])
def test_plain_members_cannot_list_the_members(request, tenant, client_name):
    response = request.getfixturevalue(client_name).get(members_url(tenant))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_owner_adds_a_user_by_email_as_a_member(user_client, tenant, newcomer):
    invited = user_client.post(members_url(tenant), {"email": "Newcomer@Example.com"})
    assert (invited.json()["role"], role_of(newcomer, tenant)) == ("member", None)

    response = accepted(invited, newcomer)

    assert response.status_code == 200
    assert (response.json()["user_id"], response.json()["role"]) == (newcomer.pk, "member")
    assert role_of(newcomer, tenant) == "member"


def test_a_tenant_admin_adds_a_viewer(tenant_admin_client, tenant, newcomer):
    response = accepted(tenant_admin_client.post(members_url(tenant), {"email": newcomer.email, "role": "viewer"}),
                        newcomer)

    assert response.status_code == 200
    assert role_of(newcomer, tenant) == "viewer"


def test_an_added_member_can_enter_the_tenant(user_client, tenant, newcomer):
    accepted(user_client.post(members_url(tenant), {"email": newcomer.email}), newcomer)

    response = client_for(newcomer, tenant).get("/api/v1/tasks/")

    assert response.status_code == 200


@pytest.mark.parametrize("client_name", ["second_user_client", "viewer_client"])
def test_plain_members_cannot_add_members(request, tenant, newcomer, client_name):
    response = request.getfixturevalue(client_name).post(members_url(tenant), {"email": newcomer.email})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(newcomer, tenant) is None


def test_adding_an_unknown_email_is_an_invitation_like_any_other(user_client, tenant):
    """It used to be a 404, which told owners who has an account; now nobody is added until they accept."""
    response = user_client.post(members_url(tenant), {"email": "ghost@example.com"})

    assert response.status_code == 202
    assert response.json()["status"] == "pending"


def test_adding_a_deactivated_user_is_an_invitation_that_adds_no_one(user_client, tenant, newcomer):
    newcomer.is_active = False
    newcomer.save(update_fields=["is_active"])

    response = user_client.post(members_url(tenant), {"email": newcomer.email})

    assert response.status_code == 202
    assert role_of(newcomer, tenant) is None


def test_adding_an_existing_member_is_a_conflict(user_client, tenant, second_user):
    response = user_client.post(members_url(tenant), {"email": second_user.email, "role": "admin"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert role_of(second_user, tenant) == "member"


def test_adding_with_an_unknown_role_is_a_validation_error(user_client, tenant, newcomer):
    response = user_client.post(members_url(tenant), {"email": newcomer.email, "role": "emperor"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


def test_adding_without_an_email_is_a_validation_error(user_client, tenant):
    response = user_client.post(members_url(tenant), {"role": "member"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["email"]


def test_the_owner_changes_a_members_role(user_client, tenant, second_user):
    response = user_client.patch(members_url(tenant, second_user), {"role": "admin"})

    assert response.status_code == 200
    assert (response.json()["user_id"], response.json()["role"]) == (second_user.pk, "admin")
    assert role_of(second_user, tenant) == "admin"


def test_a_member_demoted_to_viewer_loses_write_access(user_client, tenant, second_user, second_user_client):
    user_client.patch(members_url(tenant, second_user), {"role": "viewer"})

    response = second_user_client.post("/api/v1/tasks/", {"title": "Too late"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_owner_removes_a_member(user_client, tenant, second_user):
    response = user_client.delete(members_url(tenant, second_user))

    assert response.status_code == 204
    assert role_of(second_user, tenant) is None


def test_a_removed_member_can_no_longer_enter_the_tenant(user_client, tenant, second_user, second_user_client):
    user_client.delete(members_url(tenant, second_user))

    response = second_user_client.get("/api/v1/tasks/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("method, body", [("patch", {"role": "admin"}), ("delete", None)])
def test_plain_members_cannot_change_or_remove_members(second_user_client, tenant, viewer, method, body):
    response = getattr(second_user_client, method)(members_url(tenant, viewer), body)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(viewer, tenant) == "member"


def test_the_last_owner_cannot_be_demoted(user_client, tenant, user):
    response = user_client.patch(members_url(tenant, user), {"role": "admin"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert role_of(user, tenant) == "owner"


def test_the_last_owner_cannot_be_removed(user_client, tenant, user):
    response = user_client.delete(members_url(tenant, user))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert role_of(user, tenant) == "owner"


def test_a_platform_admin_cannot_remove_the_last_owner_either(admin_client, tenant, user):
    response = admin_client.delete(members_url(tenant, user))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_an_owner_can_step_down_when_another_owner_remains(user_client, tenant, user, second_user):
    user_client.patch(members_url(tenant, second_user), {"role": "owner"})

    response = user_client.patch(members_url(tenant, user), {"role": "member"})

    assert response.status_code == 200
    assert (role_of(user, tenant), role_of(second_user, tenant)) == ("member", "owner")


def test_an_owner_can_be_removed_when_another_owner_remains(user_client, tenant, user, second_user):
    user_client.patch(members_url(tenant, second_user), {"role": "owner"})

    response = user_client.delete(members_url(tenant, user))

    assert response.status_code == 204
    assert role_of(user, tenant) is None


def test_the_owner_grants_the_owner_role(user_client, tenant, second_user):
    response = user_client.patch(members_url(tenant, second_user), {"role": "owner"})

    assert response.status_code == 200
    assert role_of(second_user, tenant) == "owner"


def test_the_owner_adds_a_new_owner(user_client, tenant, newcomer):
    response = accepted(user_client.post(members_url(tenant), {"email": newcomer.email, "role": "owner"}), newcomer)

    assert response.status_code == 200
    assert role_of(newcomer, tenant) == "owner"


def test_a_platform_admin_grants_the_owner_role(admin_client, tenant, second_user):
    response = admin_client.patch(members_url(tenant, second_user), {"role": "owner"})

    assert response.status_code == 200


def test_a_tenant_admin_cannot_grant_the_owner_role(tenant_admin_client, tenant, second_user):
    response = tenant_admin_client.patch(members_url(tenant, second_user), {"role": "owner"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(second_user, tenant) == "member"


def test_a_tenant_admin_cannot_add_an_owner(tenant_admin_client, tenant, newcomer):
    response = tenant_admin_client.post(members_url(tenant), {"email": newcomer.email, "role": "owner"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(newcomer, tenant) is None


def test_a_tenant_admin_cannot_make_themselves_owner(tenant_admin_client, tenant, tenant_admin):
    response = tenant_admin_client.patch(members_url(tenant, tenant_admin), {"role": "owner"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("method, body", [("patch", {"role": "member"}), ("delete", None)])
def test_a_tenant_admin_cannot_demote_or_remove_an_owner(tenant_admin_client, tenant, user, second_user, method,
                                                         body):
    Membership.objects.filter(tenant=tenant, user=second_user).update(role="owner")

    response = getattr(tenant_admin_client, method)(members_url(tenant, user), body)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(user, tenant) == "owner"


def test_a_tenant_admin_changes_a_members_role(tenant_admin_client, tenant, second_user):
    response = tenant_admin_client.patch(members_url(tenant, second_user), {"role": "viewer"})

    assert response.status_code == 200
    assert role_of(second_user, tenant) == "viewer"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_changing_or_removing_a_non_member_is_not_found(user_client, tenant, other_user, method):
    response = getattr(user_client, method)(members_url(tenant, other_user), {"role": "member"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_changing_a_role_to_an_unknown_one_is_a_validation_error(user_client, tenant, second_user):
    response = user_client.patch(members_url(tenant, second_user), {"role": "emperor"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["role"]


@pytest.mark.parametrize("method, member, body", [
    ("get", False, None), ("post", False, {"email": "user@example.com"}),
    ("patch", True, {"role": "member"}), ("delete", True, None),
])
def test_another_tenants_members_are_not_found(user_client, other_tenant, other_user, method, member, body):
    response = getattr(user_client, method)(members_url(other_tenant, other_user if member else None), body)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert role_of(other_user, other_tenant) == "owner"


def test_members_need_authentication(anon_client, tenant):
    response = anon_client.get(members_url(tenant))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
