"""Operator console for webhook deliveries: read-only, with every attempt inline.

Written by hand (WebhookDeliveryResource sets `admin = False`) because deliveries change only through the
services; the subscriptions' page is generated, and never shows a secret (the column is not editable).
"""
from django.contrib import admin
from django.http import HttpRequest

from .models import WebhookAttempt, WebhookDelivery


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["number", "outcome", "status_code", "duration_ms", "response_excerpt",
                                "response_truncated", "error", "will_retry_in", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "event_id", "subscription", "tenant", "status", "attempt_count", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "event_type", "subscription__name"]
    list_select_related = ["subscription", "tenant"]
    readonly_fields = ["tenant", "subscription", "event_id", "event_type", "payload", "status", "attempt_count",
                       "created_at", "finished_at"]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False
