"""Operator console for change events: read-only, as the outbox is a record of what happened."""
from django.contrib import admin
from django.http import HttpRequest

from .models import Event


class RelayedFilter(admin.SimpleListFilter):
    """Pending events are the ones the relay has not handed on yet (the sweep retries them every minute)."""

    title = "relayed"
    parameter_name = "relayed"

    def lookups(self, request, model_admin):
        return [("yes", "Relayed"), ("no", "Pending")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(relayed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Every change event with its envelope: what receivers, webhooks and /ws/events/ were given."""

    list_display = ["occurred_at", "type", "tenant", "owner", "relayed_at", "id"]
    list_filter = [RelayedFilter, "resource", "type", "occurred_at"]
    search_fields = ["=id", "type"]
    list_select_related = ["tenant", "owner"]
    date_hierarchy = "occurred_at"
    fields = ["id", "type", "resource", "tenant", "owner", "occurred_at", "relayed_at", "data"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
