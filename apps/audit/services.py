"""Writing the audit trail: every app reports its security events here, and this module never fails its caller."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from rest_framework.request import Request

from apps.api.scoping import AccessContext
from apps.platform.client_ip import client_ip
from apps.platform.request_context import current_request_id
from apps.platform.request_log import recordable_path

from .models import AuditLog

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser as User

    from apps.tenants.models import Tenant

audit_logger = logging.getLogger("tessera.audit")
logger = logging.getLogger(__name__)

#: Detail keys that could only hold a secret. Callers never pass one; if one slips in, it is masked, not stored.
_SECRET_WORDS = ("password", "secret", "token", "digest", "signature")
#: An attempted email is client input: it is stored, but bounded like the column it would have been.
_MAX_DETAIL_TEXT = 254


def audit_record(event: str, *, request: HttpRequest | Request | AccessContext | None = None,
                 actor: User | None = None, tenant: Tenant | None = None, **details: Any) -> AuditLog | None:
    """Write one security event to AuditLog and to the `tessera.audit` log; never fail the caller.

    `request` (or the `AccessContext` a tenant was resolved for, from an HTTP request, a socket or a page)
    supplies the client address, the path and (unless given) the actor; the request id comes
    from the request being served. `tenant` is set only for events inside a tenant (refusals, cross-tenant
    attempts), because its owners can read the row: account events (logins, keys, platform roles) are no
    one tenant's business, so they are left to platform admins. `details` are ids, key prefixes, attempted
    emails and role values, never a password, token, key or digest. The row is written in a savepoint, so
    a failed insert (logged) leaves an enclosing transaction usable and the response unchanged.
    `REPEATABLE_EVENTS` are written once per caller, tenant and minute (None for the ones skipped).
    """
    if event in REPEATABLE_EVENTS and request is not None and not _first_in_interval(event, request, tenant):
        return None
    try:
        if actor is None and request is not None:
            user = getattr(request, "user", None)
            actor = user if user is not None and user.is_authenticated else None
        details = {name: _safe_detail(name, value) for name, value in details.items()}
        row = AuditLog(event=event, actor=actor, tenant=tenant, details=details, request_id=current_request_id(),
                       ip=(_caller_address(request) or None) if request is not None else None,
                       path=recordable_path(request.path)[:255] if request is not None else "")
        audit_logger.info("audit %s", event, extra={
            "event": event, "actor_id": row.actor_id, "tenant_id": row.tenant_id, "client_ip": row.ip,
            "path": row.path, "details": details})
        with transaction.atomic():
            row.save()
    except Exception:
        logger.exception("Could not write the audit row for %s", event)
        return None
    return row


def _safe_detail(name: str, value):
    if any(word in name.lower() for word in _SECRET_WORDS):
        return "[masked]"
    return value[:_MAX_DETAIL_TEXT] if isinstance(value, str) else value


#: Events a caller can repeat at request rate (a flood of 429s, a probe naming tenant after tenant): each is
#: audited once per caller, tenant and this many seconds, so a flood cannot become a flood of inserts.
REPEATABLE_EVENTS = frozenset({AuditLog.Event.THROTTLED, AuditLog.Event.CROSS_TENANT_ATTEMPT})
REPEATABLE_AUDIT_INTERVAL = 60


def security_event_record(event: str, request: HttpRequest | Request | AccessContext, details: dict[str, Any]) -> None:
    """settings.SECURITY_EVENT_HANDLER: the 403s and 429s of the API, into the audit trail.

    The row concerns `details["tenant"]` when the refusal names one (the tenant a cross-tenant attempt knocked
    on), else the tenant the request acts in.
    """
    details = dict(details)
    tenant = details.pop("tenant", getattr(request, "tenant", None))
    audit_record(event, request=request, tenant=tenant, **details)


def _first_in_interval(event: str, request, tenant) -> bool:
    """Whether this is the caller's first `event` about `tenant` in the interval (per user, else per address).

    Per tenant too, so every tenant's owners learn who knocked on their door, not only the first one's.
    """
    user = getattr(request, "user", None)
    who = f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{_caller_address(request)}"
    where = tenant.pk if tenant is not None else "-"
    try:
        return cache.add(f"audit:{event}:{who}:{where}", 1, REPEATABLE_AUDIT_INTERVAL)
    except Exception:  # the cache is down: record every one rather than none
        return True


def _caller_address(request: HttpRequest | Request | AccessContext) -> str:
    """The client address of a request, or the one its access context was built with."""
    return request.client_ip if isinstance(request, AccessContext) else client_ip(request)
