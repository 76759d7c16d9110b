"""Operator console for the audit trail: read-only."""
from django.contrib import admin
from django.http import HttpRequest

from .models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Security events, for reading only: a trail that operators could edit or delete would prove nothing."""

    list_display = ["created_at", "event", "actor", "tenant", "ip", "path", "request_id"]
    list_filter = ["event", "created_at"]
    search_fields = ["actor__email", "ip", "request_id"]
    list_select_related = ["actor", "tenant"]
    date_hierarchy = "created_at"
    fields = ["created_at", "event", "actor", "tenant", "ip", "request_id", "path", "details"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

