"""Jobs: a unit of background work, its log lines, the file it produced, and how many a tenant may run."""
from django.conf import settings
from django.db import models

from apps.tenants.models import TenantPolicy


class TenantJobLimits(TenantPolicy):
    """How much of the job engine one tenant may use at once; platform admins set it on the tenant."""

    max_concurrent_jobs = models.PositiveIntegerField(default=5, help_text="Jobs running at once.")

    class Meta:
        verbose_name = "job limits"
        verbose_name_plural = "job limits"


class Job(models.Model):
    """One run of a registered job type for a user in a tenant. Only services and the runner change it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    type = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher first in lists; the queue runs in order.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    timeout_seconds = models.PositiveIntegerField(default=600)
    cancel_requested = models.BooleanField(default=False)
    worker_pid = models.IntegerField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, help_text="The request that created the job.")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_by", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            # Counting a tenant's active jobs (its limit, checked at every enqueue) reads only the active ones.
            models.Index(fields=["tenant"], condition=models.Q(status__in=["queued", "running"]),
                         name="jobs_active_by_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def can_cancel(self) -> bool:
        return self.status in self.ACTIVE

    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)

    def can_delete(self) -> bool:
        return self.status not in self.ACTIVE


class JobLog(models.Model):
    """A line a job reported while running: what the watch page and the admin show under the bar."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="logs")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.level} {self.message}"

    class Meta:
        ordering = ["created_at", "pk"]


class JobFile(models.Model):
    """The file a job produced (an export), kept in the database so every web process can serve it."""

    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="file")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
