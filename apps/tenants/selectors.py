"""Reads about tenants: which one a request acts in, and which ones a user can see."""
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from apps.accounts.models import AuditLog
from apps.accounts.services import audit_record
from apps.api.errors import PermissionDenied
from apps.api.scoping import AccessContext
from apps.api.serializers import NULL_CHARACTER

from .models import Invitation, Membership, Tenant

NOT_A_MEMBER = "You are not a member of this tenant."


def tenant_for_access(access: AccessContext) -> tuple[Tenant | None, str | None]:
    """The active tenant and the caller's role in it (TESSERA_API["TENANT_RESOLVER"]).

    `X-Tenant-ID` (id or slug; `access.tenant_wanted`) chooses it; without one, the user's first tenant. A
    tenant the caller may not enter is a 403 whose message is the same whether the tenant exists or not, so
    the header cannot be used to discover tenants. Platform admins may enter any active tenant.
    Naming a tenant one is not a member of is audited as a cross-tenant attempt.
    """
    user = access.user
    wanted = access.tenant_wanted.strip()
    if NULL_CHARACTER in wanted:  # no tenant is named so, and PostgreSQL refuses NUL in a query
        raise PermissionDenied(NOT_A_MEMBER)
    memberships = Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True)
    if not wanted:
        membership = memberships.first()
        return (membership.tenant, membership.role) if membership else (None, None)
    membership = memberships.filter(**tenant_lookup(wanted, prefix="tenant__")).first()
    if membership is not None:
        return membership.tenant, membership.role
    if user.is_platform_admin:
        tenant = Tenant.objects.filter(is_active=True, **tenant_lookup(wanted)).first()
        if tenant is not None:
            return tenant, None
    raise _refusal(access, wanted)


def _refusal(access: AccessContext, wanted: str) -> PermissionDenied:
    """The 403 for a tenant the caller may not enter, audited as a cross-tenant attempt unless it is their own.

    The audit row names the tenant when it exists, so its owners learn who knocked; a member of a
    deactivated tenant is only refused (the exception handler records that as a plain permission_denied).
    """
    target = Tenant.objects.filter(**tenant_lookup(wanted)).first()
    if target is not None and target.memberships.filter(user=access.user).exists():
        return PermissionDenied(NOT_A_MEMBER)
    audit_record(AuditLog.Event.CROSS_TENANT_ATTEMPT, request=access, tenant=target,
                 tenant_header=wanted[:64], tenant_exists=target is not None)
    return PermissionDenied(NOT_A_MEMBER, reported=True)


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


def tenant_members(tenant: Tenant) -> QuerySet[Membership]:
    return tenant.memberships.select_related("user").order_by("created_at", "pk")


def invitations_visible_to(queryset: QuerySet[Invitation], *, request: Request) -> QuerySet[Invitation]:
    """Visibility policy of auth/invitations: the pending invitations addressed to the caller's email (for
    platform admins too: an invitation is the invitee's to answer)."""
    return queryset.filter(email__iexact=request.user.email, status=Invitation.Status.PENDING)
