"""HTTP surface of the audit trail: read-only, for platform admins and, for their tenant's events, its owners."""
from apps import api

from . import selectors
from .models import AuditLog


@api.register(AuditLog)
class AuditLogResource(api.Resource):
    """Security events, newest first: sign-ins and failed sign-ins, refresh-token reuse, logouts, password
    changes, API keys created and revoked, role changes, deactivations, refused (403) and throttled (429)
    requests, and attempts to enter a tenant one is not a member of.

    Platform admins see every event. A tenant's owners see the events of that tenant (choose it with
    X-Tenant-ID). Anyone else gets a 403. Filter with `event`, `actor` (a user id), `created_after` and
    `created_before` (ISO 8601). `details` holds ids, key prefixes, attempted emails and roles, never a secret.
    """

    name = "audit"
    scope = "audit"
    admin_only = True  # owners get audit:read from their membership: accounts.scopes.OWNER_SCOPES says why
    visibility = selectors.audit_logs_visible_to
    fields = ["id", "event", "actor", "tenant", "ip", "request_id", "path", "details", "created_at"]
    read_only = fields
    filters = {"event": "event", "actor": "actor__id", "created_after": "created_at__gte",
               "created_before": "created_at__lte"}
    ordering = ["created_at"]
    default_ordering = ["-created_at"]
    operations = ("list", "retrieve")
    admin = False  # audit/admin.py registers a read-only admin
