"""Effective scopes: the platform role, narrowed (viewer) or widened (owner) by the membership role, then
narrowed by an API key. The scopes of personal resources (your API keys, your invitations) follow the platform
role only: they act on your account, whichever tenant you act in.

`admin` (the API summary's "administrative access") is a scope of platform admins only: granted to an API key
or a client application, it stands for every scope its admin holds."""
from collections.abc import Iterable
from typing import Any

from oauth2_provider.models import AbstractAccessToken

from apps.api import site
from apps.api.scoping import AccessContext

from .models import ApiKey, User

VIEWER_ROLES = {"viewer"}
ADMIN_SCOPE = "admin"

#: Admin-only scopes that a tenant's owners also hold while they act in that tenant.
#:
#: `audit:read` is why this exists. The audit resource is `admin_only`, so the scope catalogue keeps it
#: from ordinary users and they get a 403 (not an empty list) from the one scope check every resource
#: uses. Owners answer for their tenant's security, so the membership grants it back, for the active
#: tenant only; the visibility policy then narrows their list to that tenant's rows. The alternative, a
#: visibility policy raising 403, would leave `audit:read` in every user's scopes and API keys, claiming
#: a right nobody but admins and owners has.
OWNER_SCOPES = frozenset({"audit:read"})

#: Admin-only scopes that a tenant's owners and admins hold while they act in that tenant: webhook
#: subscriptions send the tenant's data to a URL of their choice, which is for those who manage the tenant.
MANAGER_SCOPES = frozenset({"webhooks:read", "webhooks:write", "webhooks:delete"})


def read_only(scopes: Iterable[str]) -> frozenset[str]:

    return frozenset(scope for scope in scopes if scope.endswith(":read"))


#: All an agent service account may do: report on the runs handed to it (apps/agents).
AGENT_SCOPES = frozenset({"agents:report"})


def role_scopes(role: str) -> frozenset[str]:
    """Admins hold every scope; users read, write and delete tenant resources; viewers only read them. Reporting
    on agent runs belongs to agent service accounts alone, and they hold nothing else."""
    if role == User.Role.AGENT:
        return AGENT_SCOPES & site.scopes()
    if role == User.Role.ADMIN:
        return (site.scopes() - AGENT_SCOPES) | {ADMIN_SCOPE}
    tenant_scopes = site.scopes(include_admin_only=False) - AGENT_SCOPES
    return read_only(tenant_scopes) if role == User.Role.VIEWER else tenant_scopes


def scopes_for_access(access: AccessContext, *, tenant_role: str | None) -> frozenset[str]:
    """The scopes the caller holds in the active tenant, where their membership role is `tenant_role`
    (TESSERA_API["SCOPE_RESOLVER"])."""
    user = access.user
    scopes = role_scopes(user.role)
    if not user.is_platform_admin and tenant_role in VIEWER_ROLES:
        # A viewer membership limits what you do in that tenant, not your own account (keys, invitations).
        scopes = read_only(scopes) | (scopes & site.personal_scopes())
    if tenant_role == "owner":
        scopes |= OWNER_SCOPES & site.scopes()
    if tenant_role in ("owner", "admin"):
        scopes |= MANAGER_SCOPES & site.scopes()
    granted = credential_scopes(access.auth)
    if granted is not None:
        scopes &= granted
    return scopes


def credential_scopes(auth: Any) -> frozenset[str] | None:
    """The scopes a credential was given (an API key's, a client application's token's), `admin` standing for
    every scope; None for a credential that narrows nothing (a person's own token or session)."""
    if isinstance(auth, ApiKey):
        granted = frozenset(auth.scopes)
    elif isinstance(auth, AbstractAccessToken):
        granted = frozenset(auth.scope.split())
    else:
        return None
    return granted | site.scopes() if ADMIN_SCOPE in granted else granted
