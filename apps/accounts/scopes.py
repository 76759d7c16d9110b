"""Effective scopes: the platform role, narrowed by the membership role, narrowed again by an API key."""
from apps.api import site

from .models import ApiKey, User

VIEWER_ROLES = {"viewer"}


def read_only(scopes) -> frozenset[str]:
    return frozenset(scope for scope in scopes if scope.endswith(":read"))


def role_scopes(role: str) -> frozenset[str]:
    """Admins hold every scope; users read, write and delete tenant resources; viewers only read them."""
    if role == User.Role.ADMIN:
        return site.scopes()
    tenant_scopes = site.scopes(include_admin_only=False)
    return read_only(tenant_scopes) if role == User.Role.VIEWER else tenant_scopes


def scopes_for_request(request) -> frozenset[str]:
    """The scopes this request holds in its active tenant (TESSERA_API["SCOPE_RESOLVER"])."""
    user = request.user
    scopes = role_scopes(user.role)
    if not user.is_platform_admin and getattr(request, "tenant_role", None) in VIEWER_ROLES:
        scopes = read_only(scopes)
    if isinstance(request.auth, ApiKey):
        scopes &= frozenset(request.auth.scopes)
    return scopes
