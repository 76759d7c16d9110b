"""Migration runs, their log entries, presets (built-in ones shipped as data, custom ones per tenant), and how
far each tenant's migrations may go."""
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.tenants.models import TenantPolicy


def validate_string_list(value: Any) -> None:

    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValidationError("Must be a list of non-empty strings.")


class TenantMigrationLimits(TenantPolicy):
    """How many migrations one tenant may run at once, and where they may go within the deployment's
    allow-lists (TESSERA_MIGRATIONS); platform admins set it on the tenant."""

    max_concurrent_migrations = models.PositiveIntegerField(default=2, help_text="Migrations running at once.")
    migration_roots = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                       help_text="Directories this tenant's migrations may use, inside the "
                                                 "deployment's MIGRATION_ALLOWED_ROOTS; empty: all of those.")
    migration_db_hosts = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                          help_text="Database hosts this tenant's migrations may reach, among "
                                                    "MIGRATION_ALLOWED_DB_HOSTS; empty: all of those.")

    class Meta:
        verbose_name = "migration limits"
        verbose_name_plural = "migration limits"


def new_session_id() -> str:
    """A migration's public id: 128 random bits, so one cannot be guessed from another."""
    return secrets.token_hex(16)


class MigrationRun(models.Model):
    """A described move of files or a database from a source to a destination, and its lifecycle.

    `session_id` is its public id (paths, bodies, events, logs); the integer pk stays internal. `source` and
    `destination` hold the config without credentials; those live encrypted in `secrets`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"                            # created, or scheduled (scheduled_for set)
        STARTED = "started", "Started"                            # queued for a worker
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        ROLLBACK_STARTED = "rollback_started", "Rollback started"  # queued or restoring
        ROLLED_BACK = "rolled_back", "Rolled back"

    BUSY = (Status.STARTED, Status.RUNNING, Status.ROLLBACK_STARTED)
    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.ROLLED_BACK)

    session_id = models.CharField(max_length=32, unique=True, default=new_session_id, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="migration_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.JSONField()
    destination = models.JSONField()
    transfer = models.JSONField(default=dict, blank=True)
    safety = models.JSONField(default=dict, blank=True)
    secrets = models.TextField(blank=True, editable=False, help_text="Encrypted credentials (Fernet).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The latest run or rollback: its progress and step are the migration's.")
    auto_rollback = models.BooleanField(default=False, help_text="Asked at start: roll back if this run fails.")
    send_notifications = models.BooleanField(default=False, help_text="Asked at start: notify on the outcome.")
    backup = models.JSONField(null=True, blank=True, help_text="What rollback restores: {id, taken_at, parts}.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Live and final measures (tracking.py).")
    last_validation = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_by", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def can_start(self) -> bool:
        return self.status not in self.BUSY

    @property
    def source_type(self) -> str:
        return self.source.get("type", "") if isinstance(self.source, dict) else ""

    @property
    def destination_type(self) -> str:
        return self.destination.get("type", "") if isinstance(self.destination, dict) else ""

    @property
    def progress(self) -> float:
        """Percent done: its job's (the one place progress is kept); 100 once completed."""
        if self.status == self.Status.COMPLETED:
            return 100.0
        return float(self.job.progress) if self.job_id and self.status != self.Status.PENDING else 0.0

    @property
    def current_step(self) -> str:
        return self.job.step if self.job_id and self.status != self.Status.PENDING else ""

    @property
    def duration(self) -> float | None:
        """Seconds from the start of its latest run to its end, or to now while it runs."""
        if self.started_at is None:
            return None
        return round(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 3)

    @property
    def start_time(self) -> datetime | None:
        return self.started_at

    @property
    def end_time(self) -> datetime | None:
        return self.finished_at

    @property
    def error_or_none(self) -> str | None:
        return self.error or None

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.PENDING and self.scheduled_for is not None

    def can_cancel(self) -> bool:
        return self.status in (self.Status.STARTED, self.Status.RUNNING) or self.is_scheduled

    def can_roll_back(self) -> bool:
        return self.backup is not None and self.status in (self.Status.COMPLETED, self.Status.FAILED,
                                                           self.Status.CANCELLED, self.Status.ROLLED_BACK)


class MigrationLog(models.Model):
    class Level(models.TextChoices):
        DEBUG = "DEBUG", "Debug"
        INFO = "INFO", "Info"
        WARNING = "WARNING", "Warning"
        ERROR = "ERROR", "Error"

    run = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="logs")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    step = models.CharField(max_length=200, blank=True)
    component = models.CharField(max_length=40, blank=True, help_text="file_transfer, database_transfer, backup...")
    details = models.JSONField(default=dict, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.level} {self.message[:80]}"


class Preset(models.Model):
    """A reusable migration config, named by its slug. Built-in presets have no tenant and are shipped as data;
    a tenant's own are `custom`. Strings of the template may hold `{{variable}}` placeholders (templates.py)."""

    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="migration_presets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    config_template = models.JSONField(help_text="source, destination, transfer and safety, without credentials; "
                                                 "strings may hold {{variable}} placeholders.")
    variables = models.JSONField(default=list, blank=True,
                                 help_text="The placeholders' declarations: [{name, type, required, default}].")
    source_types = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                    help_text="Source types the preset moves from.")
    destination_types = models.JSONField(default=list, blank=True, validators=[validate_string_list],
                                         help_text="Destination types it moves to.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="unique_preset_slug_per_tenant")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.tenant_id is None

    @property
    def custom(self) -> bool:
        """A tenant's own preset (the guide's `custom`), as opposed to a built-in one."""
        return self.tenant_id is not None


class MigrationTemplate(Preset):
    """The guide's "migration template": a tenant's own preset, seen through /templates/ with the guide's field
    names (`template` for `config_template`). A proxy, not a table: a template is a custom preset, listed with the
    presets and usable from either path, and one service (services.preset_save) validates both."""

    class Meta:
        proxy = True
        verbose_name = "template"
        verbose_name_plural = "templates"
