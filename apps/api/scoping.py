"""The one security chokepoint: which rows a request may see. Lists, details, actions and sockets all use it."""
from .errors import PermissionDenied


def scope_queryset(queryset, *, request, resource):
    """Narrow `queryset` to what `request` may see under `resource`'s rules.

    By default rows must belong to the active tenant and, when the resource has an owner, to the
    current user. A resource with a `visibility` policy uses that instead; the policy may only narrow.
    """
    policy = type(resource).visibility
    if policy is not None:
        return policy(queryset, request=request)
    conditions = {}
    if resource.tenant_field:
        conditions[resource.tenant_field] = require_tenant(request)
    if resource.owner_field:
        conditions[resource.owner_field] = request.user
    return queryset.filter(**conditions) if conditions else queryset


def require_tenant(request):
    """The active tenant, or a 403 saying how to choose one."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise PermissionDenied("No active tenant: send X-Tenant-ID with a tenant you are a member of.")
    return tenant
