"""Agents: a configured piece of automated work on a project, and the reports its runs produce.

An agent's runs are jobs on the job engine (apps/jobs): progress, log lines, cancellation, retries and the tenant's
job limits come from there. The agent keeps what the platform's clients read: its lifecycle status and its result.
"""
from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models


class Agent(models.Model):
    class Type(models.TextChoices):
        ISSUE_RESOLVER = "issue_resolver", "Issue resolver"
        PR_REVIEWER = "pr_reviewer", "Pull request reviewer"
        CODE_ANALYZER = "code_analyzer", "Code analyzer"
        CUSTOM = "custom", "Custom"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.PENDING, Status.RUNNING)

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="agents")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agents")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=200, validators=[MinLengthValidator(1)])
    type = models.CharField(max_length=20, choices=Type.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Validated against the agent type's own schema.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The latest run: its progress and log lines.")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    delegated_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="The agent service account running the current "
                                                                 "run (issue_resolver, custom), which may report on it.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class Report(models.Model):
    """What a code_analyzer or pr_reviewer run found, with its quality score; analytics aggregates these."""

    class Kind(models.TextChoices):
        ANALYSIS = "analysis", "Code analysis"
        REVIEW = "review", "Review"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="reports")
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="reports")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quality_score = models.FloatField(help_text="0 to 100; see apps/agents/analysis.py quality_score().")
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "project", "-created_at"])]
