"""Operator console for migrations: runs with status, progress and their log inline, cancel and rollback; presets."""
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.api.errors import DomainError

from . import services
from .models import MigrationLog, MigrationRun, Preset


class MigrationLogInline(admin.TabularInline):
    model = MigrationLog
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "level", "step", "message"]

    def has_add_permission(self, request: HttpRequest, obj: MigrationRun | None = None) -> bool:
        return False


@admin.register(MigrationRun)
class MigrationRunAdmin(admin.ModelAdmin):
    """Runs change only through their services; the page is read-only and its actions call them."""

    list_display = ["name", "session_id", "tenant", "created_by", "status", "progress", "current_step", "started_at",
                    "finished_at"]
    list_filter = ["status", "tenant"]
    search_fields = ["name", "session_id", "created_by__email"]
    list_select_related = ["tenant", "created_by", "job"]
    exclude = ["secrets"]  # encrypted credentials never reach the console, not even as ciphertext
    inlines = [MigrationLogInline]
    actions = ["cancel", "roll_back"]

    def get_readonly_fields(self, request: HttpRequest, obj: MigrationRun | None = None) -> list[str]:
        return [*(field.name for field in MigrationRun._meta.fields if field.name != "secrets"), "progress",
                "current_step"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _each(self, request, queryset, operation, verb: str):
        for run in queryset:
            try:
                operation(run, request.user)
                self.message_user(request, f"{run}: {verb}.", messages.SUCCESS)
            except DomainError as refusal:
                self.message_user(request, f"{run}: {refusal.message}", messages.WARNING)

    @admin.action(description="Cancel selected migrations")
    def cancel(self, request: HttpRequest, queryset: QuerySet[MigrationRun]) -> None:
        self._each(request, queryset, lambda run, user: services.migration_cancel(run, cancelled_by=user),
                   "cancel requested")

    @admin.action(description="Roll back selected migrations")
    def roll_back(self, request: HttpRequest, queryset: QuerySet[MigrationRun]) -> None:

        self._each(request, queryset, lambda run, user: services.migration_rollback(run, requested_by=user),
                   "rollback queued")


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "slug"]
