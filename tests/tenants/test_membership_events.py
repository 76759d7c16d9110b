"""Membership changes announce membership.created|updated|deleted on the `tenants/members` stream, in the change's
transaction: through the API, the tenant services and the operator console alike, and never from a rolled-back one.
(/ws/events/ delivery is in tests/events/test_event_stream.py, webhooks in tests/webhooks/test_deliveries.py.)"""
import pytest
from django.db import transaction

from apps.events.models import Event
from apps.tenants import services
from apps.tenants.models import Membership
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

MEMBER_FIELDS = {"user_id", "email", "full_name", "role", "created_at"}


def membership_events() -> list[Event]:
    return list(Event.objects.filter(resource="tenants/members").order_by("occurred_at"))


def members_url(tenant, user=None) -> str:
    base = f"/api/v1/tenants/{tenant.pk}/members/"
    return f"{base}{user.pk}/" if user is not None else base


@pytest.fixture
def newcomer(db):
    return make_user("newcomer@example.com", full_name="New Comer")


def test_accepting_an_invitation_announces_the_new_member(user_client, tenant, newcomer):
    invited = user_client.post(members_url(tenant), {"email": newcomer.email, "role": "viewer"}, format="json")
    assert membership_events() == []  # an invitation is not a membership yet

    joined = client_for(newcomer).post(f"/api/v1/auth/invitations/{invited.json()['id']}/accept")

    [event] = membership_events()
    assert joined.status_code == 200
    assert (event.type, event.tenant_id, event.owner_id) == ("membership.created", tenant.pk, None)
    assert event.data == joined.json() == {"user_id": newcomer.pk, "email": newcomer.email, "full_name": "New Comer",
                                           "role": "viewer", "created_at": event.data["created_at"]}


def test_a_role_change_announces_the_member_as_the_member_list_shows_it(user_client, tenant, second_user):
    changed = user_client.patch(members_url(tenant, second_user), {"role": "admin"}, format="json")

    [event] = membership_events()
    listed = next(row for row in user_client.get(members_url(tenant)).json() if row["user_id"] == second_user.pk)
    assert changed.status_code == 200
    assert (event.type, event.tenant_id) == ("membership.updated", tenant.pk)
    assert event.data == listed == changed.json()


def test_a_removal_announces_the_member_as_they_were(user_client, tenant, second_user):
    removed = user_client.delete(members_url(tenant, second_user))

    [event] = membership_events()
    assert removed.status_code == 204
    assert event.type == "membership.deleted"
    assert (event.data["user_id"], event.data["email"], event.data["role"]) == (second_user.pk, second_user.email,
                                                                                 "member")


def test_the_event_data_is_the_member_and_nothing_of_the_users_account(user_client, tenant, second_user):
    user_client.patch(members_url(tenant, second_user), {"role": "viewer"}, format="json")

    [event] = membership_events()
    assert set(event.data) == MEMBER_FIELDS
    assert set(event.envelope()) == {"id", "type", "tenant", "occurred_at", "data"}


def test_setting_the_role_a_member_already_has_announces_nothing(user_client, tenant, second_user):
    response = user_client.patch(members_url(tenant, second_user), {"role": "member"}, format="json")

    assert response.status_code == 200
    assert membership_events() == []


def test_a_refused_change_announces_nothing(user_client, tenant, user):
    response = user_client.patch(members_url(tenant, user), {"role": "member"}, format="json")  # the last owner

    assert response.status_code == 409
    assert membership_events() == []


def test_a_change_rolled_back_with_its_transaction_announces_nothing(tenant, user, second_user, newcomer):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.membership_add(tenant=tenant, user=newcomer, role=Membership.Role.MEMBER)
        services.membership_change_role(tenant=tenant, user_id=second_user.pk, role="admin", changed_by=user)
        services.membership_remove(tenant=tenant, user_id=second_user.pk, removed_by=user)
        assert len(membership_events()) == 3  # written in the change's own transaction...
        raise RuntimeError("the request failed after the changes")

    assert membership_events() == []  # ...and gone with it
    assert Membership.objects.get(tenant=tenant, user=second_user).role == "member"


def test_a_new_tenant_announces_its_owner(admin_client, admin_user):
    created = admin_client.post("/api/v1/tenants/", {"name": "Initech"}, format="json")

    [event] = membership_events()
    assert created.status_code == 201
    assert (event.type, event.tenant_id, event.data["user_id"], event.data["role"]) == (
        "membership.created", created.json()["id"], admin_user.pk, "owner")


def console_form(tenant, rows: list[dict]) -> dict:
    """The tenant change page's form with its membership rows (`id` empty for a new row, `DELETE` to remove)."""
    form = {"name": tenant.name, "slug": tenant.slug, "is_active": "on", "max_concurrent_jobs": 5,
            "max_concurrent_migrations": 2, "rate_limit": "", "memberships-TOTAL_FORMS": len(rows),
            "memberships-INITIAL_FORMS": sum(1 for row in rows if row.get("id")),
            "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}
    for index, row in enumerate(rows):
        form.update({f"memberships-{index}-{name}": value for name, value in row.items()})
        form[f"memberships-{index}-tenant"] = tenant.pk
    return form


def test_the_operator_console_announces_what_it_adds_changes_and_removes(console, tenant, user, second_user,
                                                                         newcomer):
    owner, member = (Membership.objects.get(tenant=tenant, user=person) for person in (user, second_user))
    rows = [{"id": owner.pk, "user": user.pk, "role": "owner"},
            {"id": member.pk, "user": second_user.pk, "role": "member", "DELETE": "on"},
            {"id": "", "user": newcomer.pk, "role": "admin"}]
    response = console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", console_form(tenant, rows))
    assert response.status_code == 302

    promoted = console.post(f"/admin/tenants/tenant/{tenant.pk}/change/", console_form(tenant, [
        {"id": owner.pk, "user": user.pk, "role": "owner"},
        {"id": Membership.objects.get(tenant=tenant, user=newcomer).pk, "user": newcomer.pk, "role": "owner"}]))

    assert promoted.status_code == 302
    assert [(event.type, event.data["user_id"], event.data["role"]) for event in membership_events()] == [
        ("membership.deleted", second_user.pk, "member"), ("membership.created", newcomer.pk, "admin"),
        ("membership.updated", newcomer.pk, "owner")]
