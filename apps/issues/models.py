"""Issues of a project: tracked here, or synced from its GitHub repository."""
from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models

from .labels import validate_labels


def no_labels() -> list:
    return []


class Issue(models.Model):
    # Declared in lifecycle / severity order: ordering by these fields follows this order.
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    FINISHED = (Status.RESOLVED, Status.CLOSED)

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="issues")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="issues")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="issues")
    title = models.CharField(max_length=300, validators=[MinLengthValidator(1)])
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    labels = models.JSONField(default=no_labels, blank=True, validators=[validate_labels])
    github_number = models.PositiveIntegerField(null=True, blank=True, help_text="Set for issues synced from GitHub.")
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The issue_resolver working on it.")
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "owner", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["project", "github_number"], name="one_issue_per_github_number")]

    def __str__(self) -> str:
        return self.title
