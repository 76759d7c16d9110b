"""Tenants, who belongs to them with which role, and the base of the per-tenant settings other apps keep."""
from typing import Self

from django.conf import settings
from django.db import models

from apps.api.rates import validate_rate


class Tenant(models.Model):
    """An isolated workspace: every tenant-owned row belongs to exactly one tenant."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True, blank=True,
                            help_text="Used in X-Tenant-ID and URLs; derived from the name when left blank.")
    is_active = models.BooleanField(default=True)
    rate_limit = models.CharField(max_length=20, blank=True, validators=[validate_rate],
                                  help_text='Requests allowed for the whole tenant, e.g. "5000/m"; blank for none.')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TenantPolicy(models.Model):
    """Base of one app's settings for each tenant (its limits), kept in that app's own table.

    The app that enforces a limit owns it: `jobs.TenantJobLimits` holds how many jobs a tenant may run, and a
    new domain adds its own subclass without touching tenants. Every subclass's fields appear on the tenants
    resource and the tenant admin page beside the tenant's own, for platform admins to set. A tenant without
    a row has the fields' defaults; the row is written the first time one is set or locked.
    """

    tenant = models.OneToOneField(Tenant, primary_key=True, on_delete=models.CASCADE,
                                  related_name="%(app_label)s_policy")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.verbose_name} of {self.tenant}"

    @classmethod
    def accessor(cls) -> str:
        """The attribute on Tenant that reaches this policy (`tenant.jobs_policy`)."""
        return cls._meta.get_field("tenant").remote_field.get_accessor_name()

    @classmethod
    def setting_names(cls) -> list[str]:
        return [field.name for field in cls._meta.concrete_fields if not field.primary_key]

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> Self:
        """The tenant's row, or an unsaved one holding the defaults (cached on the tenant either way)."""
        try:
            return getattr(tenant, cls.accessor())
        except cls.DoesNotExist:
            policy = cls(tenant=tenant)
            setattr(tenant, cls.accessor(), policy)
            return policy

    @classmethod
    def locked_for(cls, tenant_id: int) -> Self:
        """The tenant's row under a row lock (written with the defaults first if missing), for a service that
        checks a limit: concurrent callers serialize on it, so none of them can overshoot the limit."""
        locked = cls.objects.select_for_update().filter(tenant_id=tenant_id).first()
        if locked is None:
            cls.objects.bulk_create([cls(tenant_id=tenant_id)], ignore_conflicts=True)
            locked = cls.objects.select_for_update().get(tenant_id=tenant_id)
        return locked


class Membership(models.Model):
    """A user's place in a tenant. Viewers read; members write; owners and admins also manage members."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    MANAGER_ROLES = (Role.OWNER, Role.ADMIN)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="unique_membership")]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.role})"


class Invitation(models.Model):
    """An offer to join a tenant, addressed to an email: a Membership exists only once the invitee accepts.

    Addressed to an email rather than a user, so inviting reads the same whether the email has an account or
    not (owners cannot probe who is registered), and a person who signs up later still finds it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, help_text="Stored lower-case; the invitee signs in with it.")
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="invitations_sent")
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], condition=models.Q(status="pending"),
                                               name="one_pending_invitation_per_email")]

    def __str__(self):
        return f"{self.email} to {self.tenant} ({self.role}, {self.status})"
