"""Operator console for tenants: limits, memberships inline, and the invitations sent."""
from functools import cache

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from apps.api.errors import DomainError

from . import selectors, services
from .models import Invitation, Membership, Tenant


class _Rehearsal(Exception):
    """Rolls back a rehearsal of the membership changes (MembershipFormSet.clean)."""


class MembershipFormSet(forms.BaseInlineFormSet):
    """The tenant page's membership rows, saved through `services.memberships_change` under the member endpoints'
    rules (managers only, the owner role from owners, at least one owner kept, no member twice).

    The admin saves the tenant and its rows only once every form is valid, so the rules are checked here first:
    the changes are rehearsed in a savepoint that is always rolled back, and a rule they break is shown above the
    rows, with nothing written. `save()` then makes them for real, in the admin's transaction."""

    #: The operator saving the page (set per request by MembershipInline.get_formset).
    operator = None

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:  # a new tenant's rows: the operator creates it (below)
            return
        try:
            with transaction.atomic():
                self.apply()
                raise _Rehearsal
        except _Rehearsal:
            pass
        except DomainError as refusal:
            raise ValidationError(refusal.message) from None

    def apply(self) -> None:
        """Make the rows' changes through the tenant services, as the operator."""
        self.save(commit=False)  # sorts the rows into new, changed and deleted ones; writes nothing
        stored = Membership.objects.in_bulk([m.pk for m in self.deleted_objects]
                                            + [m.pk for m, _changed in self.changed_objects])
        services.memberships_change(
            tenant=self.instance, changed_by=self.operator,
            added=[(membership.user, membership.role) for membership in self.new_objects],
            changed=[(stored[membership.pk], membership.user, membership.role)
                     for membership, _changed in self.changed_objects],
            removed=[stored[membership.pk] for membership in self.deleted_objects])


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_formset(self, request: HttpRequest, obj: Tenant | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made for this request
        formset.operator = request.user
        return formset


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Creating a tenant is for platform admins, as through the API (`tenant_create`)."""
        return super().has_add_permission(request) and request.user.is_platform_admin

    def save_formset(self, request: HttpRequest, form: TenantForm, formset, change: bool) -> None:
        """The membership rows go through the membership services (MembershipFormSet.apply), so a member added,
        changed or removed here obeys the member endpoints' rules and announces its membership event as one
        changed through the API does."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.apply()


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
