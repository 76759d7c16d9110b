"""State changes of tenants and memberships. Who may manage members is decided here."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.api.errors import Conflict, NotFound, PermissionDenied
from apps.api.events import publish

from .models import Invitation, Membership, Tenant
from .selectors import manages_tenant, tenant_policies

#: The event stream memberships are announced on (declared in api.py): membership.created|updated|deleted.
MEMBERS_STREAM = "tenants/members"


class User(Protocol):
    """The user model (AUTH_USER_MODEL, accounts.User) as these services read it: accounts builds on tenants
    (a registration creates a personal tenant), so tenants names only what it needs instead of importing it."""

    pk: Any
    email: str
    full_name: str
    is_platform_admin: bool


#: Tenant fields only platform admins may change, as are every app's per-tenant settings (TenantPolicy):
#: tenant owners may rename their tenant but not raise its limits.
ADMIN_ONLY_FIELDS = {"rate_limit", "is_active"}


def unique_slug(base: str) -> str:
    slug = slugify(base)[:50] or "tenant"
    candidate, counter = slug, 1
    while Tenant.objects.filter(slug=candidate).exists():
        counter += 1
        candidate = f"{slug}-{counter}"
    return candidate


@transaction.atomic
def tenant_create(*, created_by: User, owner: User | None = None, **fields: Any) -> Tenant:
    """Create a tenant (platform admins only) with `owner` (default: the creator) as its owner."""
    if not created_by.is_platform_admin:
        raise PermissionDenied("Only platform admins can create tenants.")
    if fields.get("slug") and Tenant.objects.filter(slug=fields["slug"]).exists():
        raise Conflict("A tenant with this slug already exists.", details={"slug": ["This slug is taken."]})
    fields["slug"] = fields.get("slug") or unique_slug(fields["name"])
    policy_values = _take_policy_values(fields)
    tenant = Tenant.objects.create(**fields)
    tenant_policies_set(tenant=tenant, **policy_values)
    membership_add(tenant=tenant, user=owner or created_by, role=Membership.Role.OWNER)
    return tenant


@transaction.atomic
def tenant_create_personal(*, owner: User) -> Tenant:
    """The personal tenant every registered user gets, owned by them."""
    name = owner.full_name or owner.email.split("@")[0]
    tenant = Tenant.objects.create(name=f"{name}'s workspace"[:100], slug=unique_slug(owner.email.split("@")[0]))
    membership_add(tenant=tenant, user=owner, role=Membership.Role.OWNER)
    return tenant


@transaction.atomic
def tenant_update(*, tenant: Tenant, changed_by: User, **fields: Any) -> Tenant:
    """Tenant owners and admins may rename; limits and activation are for platform admins."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    require_manager(tenant, changed_by)
    policy_values = _take_policy_values(fields)
    if (policy_values or ADMIN_ONLY_FIELDS & set(fields)) and not changed_by.is_platform_admin:
        raise PermissionDenied("Only platform admins can change a tenant's limits or activation.")
    if "slug" in fields and not fields["slug"]:
        fields["slug"] = unique_slug(fields.get("name", tenant.name))
    if "slug" in fields and Tenant.objects.filter(slug=fields["slug"]).exclude(pk=tenant.pk).exists():
        raise Conflict("A tenant with this slug already exists.", details={"slug": ["This slug is taken."]})
    for name, value in fields.items():
        setattr(tenant, name, value)
    tenant.save(update_fields=[*fields, "updated_at"])
    tenant_policies_set(tenant=tenant, **policy_values)
    return tenant


def _take_policy_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Remove the per-tenant settings of other apps from `fields` and return them."""
    names = {name for policy in tenant_policies() for name in policy.setting_names()}
    return {name: fields.pop(name) for name in list(fields) if name in names}


@transaction.atomic
def tenant_policies_set(*, tenant: Tenant, **values: Any) -> None:
    """Write per-tenant settings by name into the table of the app that owns each (rows created as needed);
    callers have checked that a platform admin asked (the tenants resource, the admin page)."""
    for policy in tenant_policies():
        changes = {name: values[name] for name in policy.setting_names() if name in values}
        if changes:
            row, _created = policy.objects.update_or_create(tenant=tenant, defaults=changes)
            setattr(tenant, policy.accessor(), row)


def require_manager(tenant: Tenant, user: User) -> None:
    """Raise 403 unless `user` is a platform admin or an owner/admin of `tenant`."""
    if not manages_tenant(tenant, user):
        raise PermissionDenied("Only the tenant's owners and admins can manage its members.")


@transaction.atomic
def invitation_send(*, tenant: Tenant, email: str, role: str, invited_by: User) -> Invitation:
    """Invite `email` to join `tenant` with `role`; nothing else changes until the invitee accepts.

    The answer is the same whether the email has an account (active or not) or none, so managers cannot
    use it to learn who is registered. An email that already belongs to a member, or already has a pending
    invitation here, is a 409: managers see both in the tenant anyway.
    """
    require_manager(tenant, invited_by)
    _require_owner_for_owner_role(tenant, invited_by, role)
    email = email.strip().lower()
    if tenant.memberships.filter(user__email__iexact=email).exists():
        raise Conflict("This user is already a member of the tenant.")
    try:
        with transaction.atomic():
            return Invitation.objects.create(tenant=tenant, email=email, role=role, invited_by=invited_by)
    except IntegrityError:
        raise Conflict("This email already has a pending invitation to the tenant.") from None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the tenant with the invited role. Only the invitee, signed in with the invited email, may accept."""
    invitation = _locked_pending_invitation(invitation, user)
    membership = Membership.objects.filter(tenant=invitation.tenant, user=user).first()
    if membership is None:  # joined meanwhile (added in the operator console): the invitation only closes
        membership = membership_add(tenant=invitation.tenant, user=user, role=invitation.role)
    _answer(invitation, Invitation.Status.ACCEPTED)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> None:
    """Say no: the invitation is closed and the tenant gains no member."""
    _answer(_locked_pending_invitation(invitation, user), Invitation.Status.DECLINED)


def _locked_pending_invitation(invitation: Invitation, user) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("tenant").filter(
        pk=invitation.pk, email__iexact=user.email, status=Invitation.Status.PENDING).first()
    if invitation is None:  # answered meanwhile, or not addressed to this user
        raise NotFound("No pending invitation with this id is addressed to you.")
    return invitation


def _answer(invitation: Invitation, status: str) -> None:
    invitation.status, invitation.responded_at = status, timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


@transaction.atomic
def membership_change_role(*, tenant: Tenant, user_id: int, role: str, changed_by: User) -> Membership:
    require_manager(tenant, changed_by)
    membership = _locked_membership(tenant, user_id)
    _require_owner_for_owner_role(tenant, changed_by, role, membership.role)
    if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
        _keep_one_owner(tenant, membership)
    return membership_save(membership, role=role)


@transaction.atomic
def membership_remove(*, tenant: Tenant, user_id: int, removed_by: User) -> None:
    require_manager(tenant, removed_by)
    membership = _locked_membership(tenant, user_id)
    _require_owner_for_owner_role(tenant, removed_by, membership.role)
    if membership.role == Membership.Role.OWNER:
        _keep_one_owner(tenant, membership)
    membership_delete(membership)


@transaction.atomic
def membership_join(*, tenant: Tenant, user: User, role: str, added_by: User) -> Membership:
    """`user` joins `tenant` with `role` on a manager's say (the console's new row; through the API, people join by
    accepting an invitation, which checked the same when it was sent): managers only, the owner role from an owner
    or a platform admin, and a member cannot join twice (409)."""
    require_manager(tenant, added_by)
    _require_owner_for_owner_role(tenant, added_by, role)
    if tenant.memberships.filter(user=user).exists():
        raise Conflict(f"{user.email} is already a member of the tenant.")
    return membership_add(tenant=tenant, user=user, role=role)


@transaction.atomic
def memberships_change(*, tenant: Tenant, changed_by: User, added: Sequence[tuple[User, str]] = (),
                       changed: Sequence[tuple[Membership, User, str]] = (),
                       removed: Sequence[Membership] = ()) -> None:
    """Several membership changes at once (the console's tenant page saves its rows so), each under the rules of
    the member endpoints (`membership_join`, `membership_change_role`, `membership_remove`), all or none.

    `changed` holds (stored membership, its user after, its role after); a row given to another person is that
    person joining with the role and the first one leaving. Members who are not owners leave first (one may join
    again in the same save), then what grants the owner role goes before what does not, and owners leave last: a
    handover in one save (promote one owner, demote or remove the other) keeps an owner throughout, and a save that
    would leave none is refused by the change that tries."""
    moved = [(membership, user, role) for membership, user, role in changed if user.pk != membership.user_id]
    kept = [(membership, role) for membership, user, role in changed if user.pk == membership.user_id]
    joining = [*added, *((user, role) for _membership, user, role in moved)]
    leaving = [*removed, *(membership for membership, _user, _role in moved)]
    for membership in (m for m in leaving if m.role != Membership.Role.OWNER):
        membership_remove(tenant=tenant, user_id=membership.user_id, removed_by=changed_by)
    for user, role in sorted(joining, key=_owner_role_first):
        membership_join(tenant=tenant, user=user, role=role, added_by=changed_by)
    for membership, role in sorted(kept, key=_owner_role_first):
        membership_change_role(tenant=tenant, user_id=membership.user_id, role=role, changed_by=changed_by)
    for membership in (m for m in leaving if m.role == Membership.Role.OWNER):
        membership_remove(tenant=tenant, user_id=membership.user_id, removed_by=changed_by)


def _owner_role_first(change: tuple[Any, str]) -> bool:
    return change[1] != Membership.Role.OWNER


# The three writes of a membership, each with its event in the same transaction (the audit stream of who
# joined, changed role or left: webhooks and /ws/events/ `tenants/members`). Callers have decided the change
# may happen: the services above for the API, the tenant page of the operator console for operators.

@transaction.atomic
def membership_add(*, tenant: Tenant, user: User, role: str) -> Membership:
    """`user` joins `tenant` with `role`: membership.created."""
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    publish(MEMBERS_STREAM, "created", membership, tenant_id=tenant.pk)
    return membership


@transaction.atomic
def membership_save(membership: Membership, **changes: Any) -> Membership:
    """Apply `changes` (the role; in the console also the user) to a membership: membership.updated, unless
    nothing changed."""
    changed = {name: value for name, value in changes.items() if getattr(membership, name) != value}
    if not changed:
        return membership
    for name, value in changed.items():
        setattr(membership, name, value)
    membership.save(update_fields=list(changed))
    publish(MEMBERS_STREAM, "updated", membership, tenant_id=membership.tenant_id)
    return membership


@transaction.atomic
def membership_delete(membership: Membership) -> None:
    """The member leaves the tenant: membership.deleted, carrying the membership as it was."""
    membership.delete()
    publish(MEMBERS_STREAM, "deleted", membership, tenant_id=membership.tenant_id)


def _locked_membership(tenant: Tenant, user_id: int) -> Membership:
    membership = Membership.objects.select_for_update().filter(tenant=tenant, user_id=user_id).first()
    if membership is None:
        raise NotFound("This user is not a member of the tenant.")
    return membership


def _require_owner_for_owner_role(tenant, actor, *roles) -> None:
    """Only owners (or platform admins) grant, change or remove the owner role."""
    if Membership.Role.OWNER not in roles or actor.is_platform_admin:
        return
    if not tenant.memberships.filter(user=actor, role=Membership.Role.OWNER).exists():
        raise PermissionDenied("Only an owner can grant, change or remove the owner role.")


def _keep_one_owner(tenant: Tenant, leaving: Membership) -> None:
    others = tenant.memberships.select_for_update().filter(role=Membership.Role.OWNER).exclude(pk=leaving.pk)
    if not others.exists():
        raise Conflict("A tenant must keep at least one owner.")
