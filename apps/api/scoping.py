"""The one security chokepoint: who a caller is in which tenant, and which rows they may see.

`resolve_access()` turns an `AccessContext` (who asks, for which tenant) into the active tenant, the
membership role and the effective scopes; `scope_queryset()` narrows rows with them. Lists, details, actions,
WebSockets and the job watch page all go through both, so no surface has a rule of its own.
"""
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from django.db.models import Model, QuerySet
from django.utils.module_loading import import_string

from apps.platform.client_ip import client_ip
from apps.platform.security_events import report_security_event

from .conf import api_settings
from .errors import DomainError, PermissionDenied
from .field_access import filter_rows
from .soft_delete import live

if TYPE_CHECKING:
    from .resources import Resource


class CallerRequest(Protocol):
    """What access resolution reads from a caller: a Django or DRF request, or a socket's `SocketRequest`."""

    user: Any
    path: str

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def META(self) -> Mapping[str, Any]: ...


class ScopedRequest(Protocol):
    """What `scope_queryset()` and visibility policies read: the caller and the tenant they act in."""

    user: Any
    tenant: Model | None


@dataclass(frozen=True)
class AccessContext:
    """Everything the tenant and scope resolvers may read about a caller, whatever the transport.

    HTTP requests, sockets and pages differ in how they carry these (a header, `?tenant=`, the job's own
    tenant), so each builds one of these rather than a request-shaped stand-in for the others.
    """

    #: The authenticated user (resolution runs only for authenticated callers).
    user: Any
    #: What authenticated them: an access token, an `ApiKey`, or None for a session.
    auth: Any
    #: The tenant asked for, by id or slug, as sent (X-Tenant-ID); "" means the user's first tenant.
    tenant_wanted: str
    #: The caller's address (`apps.platform.client_ip`), for the audit of a refused tenant.
    client_ip: str
    #: The path asked for, for the same audit row.
    path: str
    #: What the authenticator read about the caller from the shared cache, left on the request as
    #: `cached_state` (apps.platform.caller_cache), or None: resolvers read it, and fill it, before the database.
    cached: Any = None

    @classmethod
    def of(cls, request: CallerRequest, *, tenant_wanted: str | None = None) -> "AccessContext":
        """The context of `request`; `tenant_wanted` stands in for its X-Tenant-ID when the tenant comes
        from somewhere else (the watch page acts in the watched job's tenant)."""
        if tenant_wanted is None:
            tenant_wanted = requested_tenant(request)
        return cls(user=request.user, auth=getattr(request, "auth", None), tenant_wanted=tenant_wanted,
                   client_ip=client_ip(request), path=request.path, cached=getattr(request, "cached_state", None))


def requested_tenant(request: CallerRequest) -> str:
    """The tenant a request names in X-Tenant-ID (an id or a slug, as sent); "" for the caller's first tenant.

    Readable before authentication, so the caller's cached membership can be read with their credentials."""
    return request.headers.get("X-Tenant-ID", "")


class TenantResolution(NamedTuple):
    tenant: Model | None
    role: str | None
    scopes: frozenset[str]


TenantResolver = Callable[[AccessContext], tuple[Model | None, str | None]]
ScopeResolver = Callable[..., frozenset[str]]


def resolve_access(context: AccessContext) -> TenantResolution:
    """The active tenant, the caller's role in it and their effective scopes, through the project's resolvers
    (TESSERA_API["TENANT_RESOLVER"] as `fn(context)`, ["SCOPE_RESOLVER"] as `fn(context, tenant_role=role)`).

    A tenant the caller may not enter raises the resolver's `DomainError` (a 403; sockets close with 4403).
    When that refusal names a security event (a cross-tenant attempt), it is reported here, once for every
    surface: the resolver only reads.
    """
    tenant_resolver, scope_resolver = _resolvers(api_settings.TENANT_RESOLVER, api_settings.SCOPE_RESOLVER)
    try:
        tenant, role = tenant_resolver(context) if tenant_resolver else (None, None)
    except DomainError as refusal:
        if refusal.security_event is not None:
            report_security_event(refusal.security_event, context, refusal.security_details)
        raise
    scopes = scope_resolver(context, tenant_role=role) if scope_resolver else frozenset()
    return TenantResolution(tenant, role, scopes)


@lru_cache(maxsize=8)
def _resolvers(tenant_path: str | None, scope_path: str | None) -> tuple[TenantResolver | None, ScopeResolver | None]:
    return (import_string(tenant_path) if tenant_path else None, import_string(scope_path) if scope_path else None)


def scope_queryset(queryset: QuerySet, *, request: ScopedRequest, resource: "Resource",
                   include_deleted: bool = False) -> QuerySet:
    """Narrow `queryset` to what `request` may see under `resource`'s rules.

    By default rows must belong to the active tenant and, when the resource has an owner, to the
    current user. A resource with a `visibility` policy uses that instead; the policy may only narrow.
    Either way, the resource's row filter for the caller's role narrows them further (field_access.py), and rows
    a soft-delete resource marked deleted are left out unless `include_deleted` (soft_delete.py).
    """
    policy = type(resource).visibility
    if policy is not None:
        queryset = policy(queryset, request=request)
    else:
        conditions = {}
        if resource.tenant_field:
            conditions[resource.tenant_field] = require_tenant(request)
        if resource.owner_field:
            conditions[resource.owner_field] = request.user
        queryset = queryset.filter(**conditions) if conditions else queryset
    if resource.soft_delete and not include_deleted:
        queryset = live(queryset, resource)
    return filter_rows(queryset, resource, request)


def require_tenant(request: ScopedRequest) -> Model:
    """The active tenant, or a 403 saying how to choose one."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        raise PermissionDenied("No active tenant: send X-Tenant-ID with a tenant you are a member of.")
    return tenant
