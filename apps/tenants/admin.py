"""Operator console for tenants: limits, memberships inline, and the invitations sent."""
from functools import cache

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from . import selectors, services
from .models import Invitation, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class TenantForm(forms.ModelForm):
    """The tenant's fields, and each app's per-tenant settings as fields of the same form (tenant_form())."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name, value in selectors.tenant_policy_values(self.instance).items():
                self.initial.setdefault(name, value)

    def policy_changes(self) -> dict:
        """The per-tenant settings the operator changed; one the form did not send keeps its value."""
        return {name: self.cleaned_data[name] for name in self.policy_names
                if name in self.changed_data
                and not self[name].field.widget.value_omitted_from_data(self.data, self.files, self.add_prefix(name))}


@cache
def tenant_form() -> type[TenantForm]:
    """TenantForm with the form field of every TenantPolicy setting, built once all apps are loaded.

    A form field does not carry its model field's validators (a model form runs those on its own instance,
    and these belong to other models), so they are added here: the page refuses what the API refuses.
    """
    declared = {}
    for policy in selectors.tenant_policies():
        for name, field in forms.fields_for_model(policy, fields=policy.setting_names()).items():
            field.validators = [*field.validators, *policy._meta.get_field(name).validators]
            declared[name] = field
    return type("TenantForm", (TenantForm,), {**declared, "policy_names": list(declared)})


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Tenants with their limits on one page: the other apps' limits are saved into their own tables."""

    list_display = ["name", "slug", "is_active", "rate_limit", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    @property
    def form(self) -> type[TenantForm]:
        return tenant_form()

    def save_model(self, request: HttpRequest, obj: Tenant, form: TenantForm, change: bool) -> None:

        super().save_model(request, obj, form, change)
        services.tenant_policies_set(tenant=obj, **form.policy_changes())

    def save_formset(self, request: HttpRequest, form: TenantForm, formset, change: bool) -> None:
        """The membership rows go through the membership services, so a member added, changed or removed here
        announces its membership event as one changed through the API does."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # sorts the rows into new, changed and deleted ones; writes nothing
        for membership in formset.deleted_objects:
            services.membership_delete(membership)
        for membership in formset.new_objects:
            services.membership_add(tenant=form.instance, user=membership.user, role=membership.role)
        for membership, changed in formset.changed_objects:  # the form has set the new values on `membership`
            stored = Membership.objects.get(pk=membership.pk)
            services.membership_save(stored, **{name: getattr(membership, name) for name in changed})


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
