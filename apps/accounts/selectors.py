"""Reads about accounts beyond CRUD: whose security events a request may see."""
from apps.tenants.models import Membership


def audit_logs_visible_to(queryset, *, request):
    """Visibility policy of the audit resource: every event for platform admins; the active tenant's events for
    its owners; nothing for anyone else (who is refused with a 403 before this runs, see scopes.OWNER_SCOPES)."""
    if request.user.is_platform_admin:
        return queryset
    if request.tenant is not None and request.tenant_role == Membership.Role.OWNER:
        return queryset.filter(tenant=request.tenant)
    return queryset.none()
