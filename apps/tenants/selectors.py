"""Reads about tenants: which one a request acts in, and which ones a user can see."""
from typing import Any

from django.apps import apps as django_apps
from django.db.models import QuerySet
from rest_framework.request import Request

from apps.api.errors import PermissionDenied
from apps.api.scoping import AccessContext, requested_tenant
from apps.api.serializers import NULL_CHARACTER
from apps.platform import caller_cache
from apps.platform.security_events import CROSS_TENANT_ATTEMPT

from .models import Invitation, Membership, Tenant, TenantPolicy

NOT_A_MEMBER = "You are not a member of this tenant."


def tenant_for_access(access: AccessContext) -> tuple[Tenant | None, str | None]:
    """The active tenant and the caller's role in it (TESSERA_API["TENANT_RESOLVER"]).

    `X-Tenant-ID` (id or slug; `access.tenant_wanted`) chooses it; without one, the user's first tenant. A
    tenant the caller may not enter is a 403 whose message is the same whether the tenant exists or not, so
    the header cannot be used to discover tenants. Platform admins may enter any active tenant.
    Naming a tenant one is not a member of is refused as a cross-tenant attempt, which the caller records
    (scoping.resolve_access): this only reads.

    A membership found is cached with the caller's authentication state (`membership_field`), which every
    change to the user's memberships or to the tenant clears (tenants.signals); refusals are not cached.
    """
    user = access.user
    wanted = access.tenant_wanted.strip()
    if NULL_CHARACTER in wanted:  # no tenant is named so, and PostgreSQL refuses NUL in a query
        raise PermissionDenied(NOT_A_MEMBER)
    state = access.cached
    cached = state.get(membership_field(wanted)) if state is not None else None
    if cached is not None:
        return caller_cache.from_snapshot(Tenant, cached)
    memberships = Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True)
    if wanted:
        memberships = memberships.filter(**tenant_lookup(wanted, prefix="tenant__"))
    membership = memberships.first()
    if membership is not None:
        if state is not None:
            state.store({membership_field(wanted): caller_cache.snapshot(membership.tenant, extra=membership.role)})
        return membership.tenant, membership.role
    if not wanted:
        return None, None
    if user.is_platform_admin:
        tenant = Tenant.objects.filter(is_active=True, **tenant_lookup(wanted)).first()
        if tenant is not None:
            return tenant, None
    raise _refusal(access, wanted)


def membership_field(wanted: str) -> str:
    """The field of the caller's cached state that holds the tenant `wanted` names and their role in it."""
    return f"tenant:{wanted.strip()}"


def requested_membership_field(request: Request) -> str:
    """The membership field a request will need, read with the caller's credentials in the same round trip."""
    return membership_field(requested_tenant(request))


def _refusal(access: AccessContext, wanted: str) -> PermissionDenied:
    """The 403 for a tenant the caller may not enter, naming a cross-tenant attempt unless it is their own.

    The event names the tenant when it exists, so its owners learn who knocked; a member of a deactivated
    tenant is only refused (the exception handler records that as a plain permission_denied).
    """
    target = Tenant.objects.filter(**tenant_lookup(wanted)).first()
    if target is not None and target.memberships.filter(user=access.user).exists():
        return PermissionDenied(NOT_A_MEMBER)
    return PermissionDenied(NOT_A_MEMBER, security_event=CROSS_TENANT_ATTEMPT, security_details={
        "tenant": target, "tenant_header": wanted[:64], "tenant_exists": target is not None})


def tenant_lookup(wanted: str, *, prefix: str = "") -> dict[str, Any]:
    """Filter kwargs naming a tenant by id or slug: X-Tenant-ID and the /tenants/{id}/ URLs read it alike."""
    # isdigit() alone also accepts characters such as "²" that int() refuses; a header must never cause a 500.
    is_id = wanted.isascii() and wanted.isdigit()
    return {f"{prefix}pk": int(wanted)} if is_id else {f"{prefix}slug": wanted}


def tenants_visible_to(queryset: QuerySet[Tenant], *, request: Request) -> QuerySet[Tenant]:
    """Visibility policy of the tenants resource: the caller's tenants; every tenant for platform admins."""
    if request.user.is_platform_admin:
        return queryset
    return queryset.filter(memberships__user=request.user).distinct()


def manages_tenant(tenant: Tenant, user: Any) -> bool:
    """Whether `user` manages `tenant`'s members: a platform admin, or one of its owners and admins. The member
    list and the `tenants/members` event stream both ask this."""
    return user.is_platform_admin or tenant.memberships.filter(user=user, role__in=Membership.MANAGER_ROLES).exists()


def tenant_members(tenant: Tenant) -> QuerySet[Membership]:
    return tenant.memberships.select_related("user").order_by("created_at", "pk")


def invitations_visible_to(queryset: QuerySet[Invitation], *, request: Request) -> QuerySet[Invitation]:
    """Visibility policy of auth/invitations: the pending invitations addressed to the caller's email (for
    platform admins too: an invitation is the invitee's to answer)."""
    return queryset.filter(email__iexact=request.user.email, status=Invitation.Status.PENDING)


def tenant_policies() -> list[type[TenantPolicy]]:
    """Every app's per-tenant settings model (a TenantPolicy subclass), in INSTALLED_APPS order."""
    return [model for model in django_apps.get_models() if issubclass(model, TenantPolicy)]


def tenant_policy_values(tenant: Tenant) -> dict[str, Any]:
    """Every per-tenant setting of `tenant` by name, defaults included (the admin page's initial values)."""
    return {name: getattr(policy.for_tenant(tenant), name)
            for policy in tenant_policies() for name in policy.setting_names()}
