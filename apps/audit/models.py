"""The audit trail: security events every app reports, kept apart from the apps they concern."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditLog(models.Model):
    """One security event: who (if known), in which tenant, from where, and what, without any secret.

    Rows are written only by `services.audit_record` and never changed. Actor and tenant are SET_NULL so
    the trail outlives the accounts and tenants it mentions.
    """

    class Event(models.TextChoices):
        LOGIN_SUCCEEDED = "login_succeeded", "Login succeeded"
        LOGIN_FAILED = "login_failed", "Login failed"
        REFRESH_REUSED = "refresh_reused", "Refresh token reused"
        LOGOUT = "logout", "Logout"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        API_KEY_CREATED = "api_key_created", "API key created"
        API_KEY_REVOKED = "api_key_revoked", "API key revoked"
        ROLE_CHANGED = "role_changed", "Role changed"
        USER_DEACTIVATED = "user_deactivated", "User deactivated"
        PERMISSION_DENIED = "permission_denied", "Permission denied"
        THROTTLED = "throttled", "Throttled"
        CROSS_TENANT_ATTEMPT = "cross_tenant_attempt", "Cross-tenant attempt"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook disabled after failures"

    event = models.CharField(max_length=32, choices=Event.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False, help_text="The user who acted, when known.")
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_index=False, help_text="The tenant the event concerns; its owners can read the row.")
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="Client address (see TRUSTED_PROXY_COUNT).")
    request_id = models.CharField(max_length=128, blank=True, help_text="X-Request-ID of the request, to find its logs.")
    path = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True,
                               help_text="Ids, key prefixes, attempted emails, roles: never a secret.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        # Lists are newest first within one of these filters (an owner's list always filters on tenant);
        # the composite indexes also serve the foreign keys, so those get no single-column index of their own.
        indexes = [
            models.Index(fields=["created_at"], name="audit_created_idx"),
            models.Index(fields=["event", "created_at"], name="audit_event_created_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_created_idx"),
            models.Index(fields=["tenant", "created_at"], name="audit_tenant_created_idx"),
            models.Index(fields=["request_id"], name="audit_request_id_idx"),
        ]

    def __str__(self):
        return f"{self.get_event_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"
