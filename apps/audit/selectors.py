"""Reads of the audit trail: whose security events a request may see."""
from django.db.models import QuerySet
from rest_framework.request import Request

from apps.tenants.models import Membership

from .models import AuditLog


def audit_logs_visible_to(queryset: QuerySet[AuditLog], *, request: Request) -> QuerySet[AuditLog]:
    """Visibility policy of the audit resource: every event for platform admins; the active tenant's events for
    its owners; nothing for anyone else (who is refused with a 403 before this runs, see
    accounts.scopes.OWNER_SCOPES)."""
    if request.user.is_platform_admin:
        return queryset
    if request.tenant is not None and request.tenant_role == Membership.Role.OWNER:
        return queryset.filter(tenant=request.tenant)
    return queryset.none()
