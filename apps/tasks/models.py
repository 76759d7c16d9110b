"""Personal to-do items inside a tenant."""
from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models


class Task(models.Model):
    # Declared in lifecycle / severity order: ordering by these fields follows this order.
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="tasks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=255, validators=[MinLengthValidator(1)])
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: Set by DELETE (the resource's soft delete); NULL while the task is live.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        # Partial: what lists read and count is the live tasks, so the count stays an index-only scan.
        indexes = [models.Index(fields=["tenant", "user", "-created_at"], condition=models.Q(deleted_at__isnull=True),
                                name="tasks_task_live_idx")]

    def __str__(self):
        return self.title
