"""Joining a tenant takes the invitee's consent: managers invite an email under /tenants/{id}/members, the
answer reads the same whether the email has an account or not, and only accepting under /auth/invitations
makes a membership."""
import pytest
from django.test import Client

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.tenants.models import Invitation, Membership
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db

INVITATIONS = "/api/v1/auth/invitations/"
NEWCOMER_NAME = "Nora Newcomer-5d1e"


def members_url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.pk}/members/"


def role_of(user, tenant) -> str | None:
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    return membership.role if membership else None


@pytest.fixture
def newcomer(db):
    return make_user("newcomer@example.com", full_name=NEWCOMER_NAME)


@pytest.fixture
def newcomer_client(newcomer):
    return client_for(newcomer)


@pytest.fixture
def invitation(user_client, tenant, newcomer) -> dict:
    response = user_client.post(members_url(tenant), {"email": newcomer.email, "role": "admin"})
    assert response.status_code == 202, response.content
    return response.json()


# --- the inviter learns nothing about the account ----------------------------------------------------
def test_inviting_reads_the_same_for_an_account_an_inactive_account_and_no_account(user_client, tenant, newcomer):
    inactive = make_user("inactive@example.com", full_name="Ina Active", is_active=False)
    emails = [newcomer.email, inactive.email, "nobody-here@example.com"]

    responses = [user_client.post(members_url(tenant), {"email": email}) for email in emails]

    assert {response.status_code for response in responses} == {202}
    bodies = [response.json() for response in responses]
    assert [body["email"] for body in bodies] == emails
    shapes = [{k: v for k, v in body.items() if k not in {"id", "email", "created_at"}} for body in bodies]
    assert shapes == [{"tenant": tenant.pk, "tenant_name": tenant.name, "role": "member", "status": "pending"}] * 3
    for response in responses:
        assert NEWCOMER_NAME.encode() not in response.content and b"Ina Active" not in response.content
        assert b"user_id" not in response.content


def test_an_invitation_is_not_a_membership(invitation, tenant, newcomer):
    assert role_of(newcomer, tenant) is None
    assert client_for(newcomer, tenant).get("/api/v1/tasks/").status_code == 403


# --- the invitee answers --------------------------------------------------------------------------------
def test_the_invitee_lists_their_pending_invitations(invitation, newcomer_client, tenant):
    response = newcomer_client.get(INVITATIONS)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["tenant"], row["tenant_name"], row["role"]) == (invitation["id"], tenant.pk,
                                                                           tenant.name, "admin")


def test_accepting_makes_the_invitee_a_member_with_the_invited_role(invitation, newcomer_client, newcomer, tenant):
    response = newcomer_client.post(f"{INVITATIONS}{invitation['id']}/accept")

    assert response.status_code == 200
    assert (response.json()["user_id"], response.json()["role"]) == (newcomer.pk, "admin")
    assert role_of(newcomer, tenant) == "admin"
    assert client_for(newcomer, tenant).get("/api/v1/tasks/").status_code == 200
    assert newcomer_client.get(INVITATIONS).json()["results"] == []


def test_declining_leaves_the_tenant_without_the_invitee(invitation, newcomer_client, newcomer, tenant):
    response = newcomer_client.post(f"{INVITATIONS}{invitation['id']}/decline")

    assert response.status_code == 204
    assert role_of(newcomer, tenant) is None
    assert Invitation.objects.get(pk=invitation["id"]).status == "declined"
    assert newcomer_client.get(INVITATIONS).json()["results"] == []


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_answered_invitation_cannot_be_answered_again(invitation, newcomer_client, answer):
    newcomer_client.post(f"{INVITATIONS}{invitation['id']}/decline")

    response = newcomer_client.post(f"{INVITATIONS}{invitation['id']}/{answer}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("client_name", ["second_user_client", "admin_client", "user_client"])
def test_only_the_invitee_sees_and_answers_an_invitation(request, invitation, tenant, client_name):
    client = request.getfixturevalue(client_name)

    assert client.get(INVITATIONS).json()["results"] == []
    assert client.get(f"{INVITATIONS}{invitation['id']}/").status_code == 404
    assert client.post(f"{INVITATIONS}{invitation['id']}/accept").status_code == 404
    assert Invitation.objects.get(pk=invitation["id"]).status == "pending"


def test_an_api_key_of_the_invitee_cannot_accept(invitation, newcomer, tenant):
    key = api_key_create(user=newcomer, name="bot", scopes=sorted(role_scopes(newcomer.role)),
                         allowed=role_scopes(newcomer.role))

    response = TenantAPIClient().with_api_key(key.secret).post(f"{INVITATIONS}{invitation['id']}/accept")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert role_of(newcomer, tenant) is None


def test_someone_who_signs_up_after_being_invited_finds_and_accepts_the_invitation(user_client, anon_client, tenant):
    user_client.post(members_url(tenant), {"email": "Later@Example.com"})
    anon_client.post("/api/v1/auth/register", {"email": "later@example.com", "password": PASSWORD})
    access = anon_client.post("/api/v1/auth/token", {"email": "later@example.com", "password": PASSWORD}).json()
    later = TenantAPIClient()
    later.credentials(HTTP_AUTHORIZATION=f"Bearer {access['access']}")

    [row] = later.get(INVITATIONS).json()["results"]
    response = later.post(f"{INVITATIONS}{row['id']}/accept")

    assert response.status_code == 200
    assert Membership.objects.filter(tenant=tenant, user__email="later@example.com").exists()


def test_inviting_an_email_already_invited_is_a_conflict(invitation, user_client, tenant, newcomer):
    response = user_client.post(members_url(tenant), {"email": newcomer.email.upper()})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Invitation.objects.filter(tenant=tenant, status="pending").count() == 1


def test_a_declined_invitation_can_be_sent_again(invitation, newcomer_client, user_client, tenant, newcomer):
    newcomer_client.post(f"{INVITATIONS}{invitation['id']}/decline")

    response = user_client.post(members_url(tenant), {"email": newcomer.email})

    assert response.status_code == 202


# --- the operator console -------------------------------------------------------------------------------
def test_the_admin_lists_invitations_read_only(admin_user, invitation, newcomer):
    console = Client()
    console.force_login(admin_user)

    listing = console.get("/admin/tenants/invitation/")
    detail = console.get(f"/admin/tenants/invitation/{invitation['id']}/change/")
    adding = console.get("/admin/tenants/invitation/add/")

    assert listing.status_code == 200 and newcomer.email in listing.content.decode()
    assert detail.status_code == 200 and 'name="email"' not in detail.content.decode()
    assert adding.status_code == 403


def test_a_viewer_membership_elsewhere_does_not_stop_the_invitee_from_accepting(tenant, other_tenant_client,
                                                                                 other_tenant):
    """Answering an invitation is about your account, not about the tenant you happen to act in."""
    reader = make_user("reader@example.com", tenant=tenant, membership_role=Membership.Role.VIEWER)
    invited = other_tenant_client.post(members_url(other_tenant), {"email": reader.email})

    response = client_for(reader, tenant).post(f"{INVITATIONS}{invited.json()['id']}/accept")

    assert response.status_code == 200
    assert role_of(reader, other_tenant) == "member"
