"""The operator console's tenant page edits memberships under the member endpoints' rules: a change that breaks one
is an error above the membership rows, and the page writes nothing (not the rows, not the tenant's own fields)."""
import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.accounts.models import User
from apps.events.models import Event
from apps.tenants.models import Membership

from .test_membership_events import console_form, newcomer  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

OWNER_KEPT = "A tenant must keep at least one owner."


def row(membership: Membership, **changes) -> dict:
    return {"id": membership.pk, "user": membership.user_id, "role": membership.role, **changes}


def page_save(client, tenant, rows, **fields):
    return client.post(f"/admin/tenants/tenant/{tenant.pk}/change/", {**console_form(tenant, rows), **fields})


def refused_with(response, message: str) -> bool:
    """The page came back (200, not a redirect) with `message` among the membership rows' errors."""
    return response.status_code == 200 and message in response.context["inline_admin_formsets"][0].formset \
        .non_form_errors()


@pytest.fixture
def owner(tenant, user):
    return Membership.objects.get(tenant=tenant, user=user)


@pytest.fixture
def member(tenant, second_user):
    return Membership.objects.get(tenant=tenant, user=second_user)


def nothing_written(tenant, *, name: str) -> bool:
    tenant.refresh_from_db()
    return tenant.name == name and not Event.objects.filter(type__startswith="membership.").exists()


def test_demoting_the_only_owner_is_refused_and_nothing_is_saved(console, tenant, owner, member):
    response = page_save(console, tenant, [row(owner, role="admin"), row(member)], name="Renamed")

    assert refused_with(response, OWNER_KEPT)
    assert Membership.objects.get(pk=owner.pk).role == "owner"
    assert nothing_written(tenant, name="Acme")


def test_removing_the_only_owner_is_refused_and_nothing_is_saved(console, tenant, owner, member):
    response = page_save(console, tenant, [row(owner, DELETE="on"), row(member, role="admin")])

    assert refused_with(response, OWNER_KEPT)
    assert Membership.objects.filter(pk=owner.pk).exists()
    assert Membership.objects.get(pk=member.pk).role == "member"  # the row before it is not kept either
    assert nothing_written(tenant, name="Acme")


def test_giving_the_only_owners_row_to_someone_else_keeps_an_owner(console, tenant, owner, member,
                                                                  newcomer):  # noqa: F811
    response = page_save(console, tenant, [row(owner, user=newcomer.pk), row(member)])

    assert response.status_code == 302
    assert list(tenant.memberships.filter(role="owner").values_list("user", flat=True)) == [newcomer.pk]


def test_ownership_can_be_handed_over_in_one_save(console, tenant, owner, member):
    response = page_save(console, tenant, [row(owner, role="member"), row(member, role="owner")])

    assert response.status_code == 302
    assert dict(tenant.memberships.values_list("user", "role")) == {owner.user_id: "member", member.user_id: "owner"}


def test_adding_someone_who_is_already_a_member_is_refused(console, tenant, owner, member):
    response = page_save(console, tenant, [row(owner), row(member, user=owner.user_id)])

    assert response.status_code == 200
    assert dict(tenant.memberships.values_list("user", "role")) == {owner.user_id: "owner", member.user_id: "member"}


@pytest.fixture
def staff_member(tenant):
    """Staff with the console's permissions on tenants and memberships, but a plain member of the tenant."""
    person = User.objects.create_user(email="staff@example.com", is_staff=True)
    person.user_permissions.set(Permission.objects.filter(content_type__app_label="tenants"))
    Membership.objects.create(tenant=tenant, user=person, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(person)
    return client


def test_staff_who_do_not_manage_the_tenant_cannot_change_its_members(staff_member, tenant, owner, member):
    staff_row = Membership.objects.get(tenant=tenant, user__email="staff@example.com")

    response = page_save(staff_member, tenant, [row(owner), row(member, role="admin"), row(staff_row)])

    assert refused_with(response, "Only the tenant's owners and admins can manage its members.")
    assert Membership.objects.get(pk=member.pk).role == "member"


def test_a_tenant_admin_cannot_grant_the_owner_role_from_the_console(staff_member, tenant, owner, member):
    staff_row = Membership.objects.get(tenant=tenant, user__email="staff@example.com")
    staff_row.role = Membership.Role.ADMIN
    staff_row.save()

    response = page_save(staff_member, tenant, [row(owner), row(member, role="owner"), row(staff_row)])

    assert refused_with(response, "Only an owner can grant, change or remove the owner role.")
    assert Membership.objects.get(pk=member.pk).role == "member"


def test_only_platform_admins_may_create_tenants_in_the_console(staff_member, console):
    assert staff_member.get("/admin/tenants/tenant/add/").status_code == 403
    assert console.get("/admin/tenants/tenant/add/").status_code == 200
