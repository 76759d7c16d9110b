"""Operator console for accounts: users with roles, and API keys without their secrets."""
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.audit.models import AuditLog
from apps.audit.services import audit_record

from . import services
from .models import ApiKey, User

# simplejwt's blacklist pages print every outstanding refresh token whole: live credentials have no place in the
# console. Sign-ins are ended through a user's deactivation or password, which revoke them in the services.
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"  # Django admin form over the admin's own fieldsets, not an API surface


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, keyed on email, with the platform role; deactivating here ends every credential."""

    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """An operator setting a user's password ends every credential the user held, as the user changing it
        does: Django's view answers a successful set with a redirect, and only then is anything revoked."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            services.credentials_revoke_all(user, revoked_by=request.user, request=request)
            audit_record(AuditLog.Event.PASSWORD_CHANGED, request=request, actor=request.user, user_id=user.pk)
        return response

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.credentials_revoke_all(obj, revoked_by=request.user, request=request)
        if change:
            services.user_changes_audit(user=obj, changed_by=request.user, request=request,
                                        old_role=form.initial.get("role", obj.role),
                                        was_active=form.initial.get("is_active", obj.is_active))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are listed by prefix; the secret is never stored and its digest is never shown."""

    list_display = ["name", "prefix", "user", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a key's secret can only be shown by the API call that creates it

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            services.api_key_revoke(key, revoked_by=request.user, request=request)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
