"""HTTP surface of tenants: the tenants you belong to, their members, and the invitations that bring them in."""
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils import model_meta

from apps import api
from apps.api.events import event_stream
from apps.api.serializers import ResourceSerializer

from . import selectors, services
from .models import Invitation, Membership, Tenant

TENANT_FIELDS = ["id", "name", "slug", "is_active", "rate_limit", "created_at", "updated_at"]
TENANT_READ_ONLY = ["id", "created_at", "updated_at"]


class TenantSerializer(ResourceSerializer):
    """A tenant, with the limits each part of the platform keeps for it (jobs, migrations): a limit never set
    reads its default. Only platform admins change limits and activation."""

    # Replaces the generated serializer (escape hatch 2) because the limits are not Tenant's fields: each is the
    # field its owning app's TenantPolicy model declares, read through the tenant's relation to that model, so a
    # new app's limits appear here without a change to tenants. They reach the services flat, by name.

    class Meta:
        model = Tenant
        fields = TENANT_FIELDS
        read_only_fields = TENANT_READ_ONLY

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for policy in selectors.tenant_policies():
            info = model_meta.get_field_info(policy)
            for name in policy.setting_names():
                field_class, kwargs = self.build_field(name, info, policy, 0)
                fields[name] = field_class(source=f"{policy.accessor()}.{name}", **kwargs)
        return fields

    def to_representation(self, tenant: Tenant) -> dict[str, Any]:
        for policy in selectors.tenant_policies():
            policy.for_tenant(tenant)  # a tenant without a row shows the defaults
        return super().to_representation(tenant)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for policy in selectors.tenant_policies():
            attrs.update(attrs.pop(policy.accessor(), {}))
        return attrs


class MemberSerializer(serializers.ModelSerializer):
    """One member of a tenant."""

    user_id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "full_name", "role", "created_at"]


# Memberships are served by the tenants resource's members actions, not a resource of their own, so their changes
# are announced on a stream: membership.created|updated|deleted, each `data` a member as the list below shows it.
# /ws/events/ grants it to whom the member list serves: tenants:read, and an owner or admin of the tenant.
event_stream(services.MEMBERS_STREAM, event_name="membership", scope="tenants:read", serializer=MemberSerializer,
             allows=selectors.manages_tenant, refusal="only the tenant's owners and admins read its members")


class MemberAddInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation: the same for an email with an account and one without, and never the invitee's name."""

    tenant_name = serializers.CharField(source="tenant.name", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "tenant", "tenant_name", "email", "role", "status", "created_at"]
        read_only_fields = fields


class MemberRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


@api.register(Tenant)
class TenantResource(api.Resource):
    """Tenants are isolated workspaces. You see the tenants you belong to; platform admins see and create all.

    Owners and admins of a tenant may rename it and manage its members; limits are set by platform admins.
    """

    name = "tenants"
    scope = "tenants"
    visibility = selectors.tenants_visible_to
    serializer_class = TenantSerializer
    fields = TENANT_FIELDS
    read_only = TENANT_READ_ONLY
    filters = {"is_active": "is_active"}
    search = ["name", "slug"]
    ordering = ["name", "created_at"]
    default_ordering = ["name"]
    operations = ("list", "create", "retrieve", "update")
    lookup = staticmethod(selectors.tenant_lookup)
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # an id or a slug

    def get_queryset(self, request: Request) -> QuerySet[Tenant]:
        """Each app's per-tenant settings come in the same query as the tenants."""
        accessors = [policy.accessor() for policy in selectors.tenant_policies()]
        return super().get_queryset(request).select_related(*accessors)

    def perform_create(self, request: Request, data: dict[str, Any]) -> Tenant:
        return services.tenant_create(created_by=request.user, **data)

    def perform_update(self, request: Request, instance: Tenant, data: dict[str, Any]) -> Tenant:
        return services.tenant_update(tenant=instance, changed_by=request.user, **data)

    @api.action(detail=True, url_path="members", scope="tenants:read", output=MemberSerializer, many=True)
    def members(self, request: Request, tenant: Tenant) -> QuerySet[Membership]:

        """List the tenant's members with their roles. Owners, admins and platform admins only (else 403)."""
        services.require_manager(tenant, request.user)
        return selectors.tenant_members(tenant)

    @api.action(detail=True, methods=["post"], url_path="members", scope="tenants:write", input=MemberAddInput,
                output=InvitationSerializer, status=202)
    def add_member(self, request: Request, tenant: Tenant, data: dict[str, Any]) -> Invitation:
        """Invite someone, by email, with a role (202): they become a member when they accept it under
        `/auth/invitations`. The answer is the same whether the email has an account or not; 409 when the email
        is already a member's or already invited."""
        return services.invitation_send(tenant=tenant, email=data["email"], role=data["role"],
                                        invited_by=request.user)

    @api.action(detail=True, methods=["patch"], url_path=r"members/(?P<user_id>[0-9]+)", scope="tenants:write",
                input=MemberRoleInput, output=MemberSerializer)
    def change_member_role(self, request: Request, tenant: Tenant, data: dict[str, Any], user_id: str) -> Membership:
        """Change a member's role. A tenant keeps at least one owner (409); only owners grant ownership."""
        return services.membership_change_role(tenant=tenant, user_id=int(user_id), role=data["role"],
                                               changed_by=request.user)

    @api.action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>[0-9]+)", scope="tenants:write",
                status=204)
    def remove_member(self, request: Request, tenant: Tenant, user_id: str) -> None:
        """Remove a member from the tenant (204). The last owner cannot be removed (409)."""
        services.membership_remove(tenant=tenant, user_id=int(user_id), removed_by=request.user)


@api.register(Invitation)
class InvitationResource(api.Resource):
    """Invitations waiting for your answer: a tenant's owners or admins invited your email to join with a role.
    Accept to become a member, or decline. Answering is for you, signed in: an API key gets a 403."""

    name = "auth/invitations"
    scope = "invitations"
    personal = True
    visibility = selectors.invitations_visible_to
    serializer_class = InvitationSerializer
    fields = ["id", "tenant", "email", "role", "status", "created_at"]
    read_only = fields
    select_related = ("tenant",)
    ordering = ["created_at"]
    default_ordering = ["-created_at"]
    operations = ("list", "retrieve")
    admin = False  # tenants/admin.py registers one that shows who invited whom

    @api.action(detail=True, methods=["post"], scope="invitations:write", output=MemberSerializer)
    def accept(self, request: Request, invitation: Invitation) -> Membership:
        """Join the tenant with the invited role; the answer is your new membership."""
        return services.invitation_accept(invitation=invitation, user=request.user)

    @api.action(detail=True, methods=["post"], scope="invitations:write", status=204)
    def decline(self, request: Request, invitation: Invitation) -> None:

        """Refuse the invitation (204); the tenant gains no member."""
        services.invitation_decline(invitation=invitation, user=request.user)
