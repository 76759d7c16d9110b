"""Tenants, their limits, and who belongs to them with which role."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.api.rates import validate_rate


def validate_string_list(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValidationError("Must be a list of non-empty strings.")


class Tenant(models.Model):
    """An isolated workspace: every tenant-owned row belongs to exactly one tenant."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True, blank=True,
                            help_text="Used in X-Tenant-ID and URLs; derived from the name when left blank.")
    is_active = models.BooleanField(default=True)
    max_concurrent_jobs = models.PositiveIntegerField(default=5, help_text="Jobs running at once.")
    max_concurrent_migrations = models.PositiveIntegerField(default=2, help_text="Migrations running at once.")
    rate_limit = models.CharField(max_length=20, blank=True, validators=[validate_rate],
                                  help_text='Requests allowed for the whole tenant, e.g. "5000/m"; blank for none.')
    migration_roots = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                       help_text="Directories this tenant's migrations may use, inside the "
                                                 "deployment's MIGRATION_ALLOWED_ROOTS; empty: all of those.")
    migration_db_hosts = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                          help_text="Database hosts this tenant's migrations may reach, among "
                                                    "MIGRATION_ALLOWED_DB_HOSTS; empty: all of those.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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
