"""Operator console for tenants: limits, memberships inline, and the invitations sent."""
from django.contrib import admin
from django.http import HttpRequest

from .models import Invitation, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "max_concurrent_jobs", "max_concurrent_migrations", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Who invited which email where, and the answer; read-only. Deleting a pending invitation withdraws it.
    Adding one here is disabled: an invitation is the tenant managers' offer, and its invitee's to answer."""

    list_display = ["email", "tenant", "role", "status", "invited_by", "created_at", "responded_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant", "invited_by"]
    fields = ["tenant", "email", "role", "status", "invited_by", "created_at", "responded_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:

        return False
