"""The migrations' request and response shapes, in the Migration Assistant guide's words. /api/v1/migrations/ and
the guide's own paths use these same serializers; only the envelope around them differs."""
from typing import Any

from rest_framework import serializers

from apps.api.serializers import ResourceSerializer

from .adapters.base import StrictSerializer
from .config import validate_options
from .models import MigrationLog, MigrationRun, Preset
from .selectors import LEVELS

MIGRATION_FIELDS = ["session_id", "name", "description", "status", "source", "destination", "transfer", "safety",
                    "source_type", "destination_type", "progress", "current_step", "job", "error", "scheduled_for",
                    "created_at", "start_time", "end_time", "duration", "auto_rollback", "send_notifications"]
MIGRATION_WRITABLE = ["name", "description", "source", "destination", "transfer", "safety"]


class StrictInput(serializers.Serializer):
    """A request body that refuses keys it does not declare (400 naming each) rather than dropping them."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields or self.fields[key].read_only)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class MigrationSerializer(StrictInput, ResourceSerializer):
    """A migration: its config (credentials never shown), status and progress (its job's), and times. Writes take
    name, description, source, destination, transfer and safety; any other key is a 400 naming it."""

    source = serializers.JSONField()
    destination = serializers.JSONField()
    transfer = serializers.JSONField(required=False)
    safety = serializers.JSONField(required=False)
    source_type = serializers.CharField(read_only=True)
    destination_type = serializers.CharField(read_only=True)
    progress = serializers.FloatField(read_only=True, help_text="Percent done, 0 to 100.")
    current_step = serializers.CharField(read_only=True)
    error = serializers.CharField(read_only=True, allow_null=True, source="error_or_none")
    start_time = serializers.DateTimeField(read_only=True, allow_null=True)
    end_time = serializers.DateTimeField(read_only=True, allow_null=True)
    duration = serializers.FloatField(read_only=True, allow_null=True, help_text="Seconds of the latest run.")

    class Meta:
        model = MigrationRun
        fields = MIGRATION_FIELDS
        read_only_fields = [name for name in MIGRATION_FIELDS if name not in MIGRATION_WRITABLE]


class PerformanceSerializer(serializers.Serializer):
    transfer_rate_current = serializers.CharField(allow_null=True, help_text='e.g. "2.3 MB/s"')
    transfer_rate_average = serializers.CharField(allow_null=True)
    files_transferred = serializers.IntegerField()
    files_total = serializers.IntegerField()
    data_transferred = serializers.CharField(allow_null=True, help_text='e.g. "12.1 GB"')
    data_total = serializers.CharField(allow_null=True)


class OperationSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="file_transfer, database_transfer, backup, verification or restore.")
    source = serializers.CharField()
    destination = serializers.CharField()
    progress = serializers.FloatField(help_text="Percent of this operation done.")


class MigrationStatusSerializer(serializers.Serializer):
    """Where a migration is (selectors.migration_status)."""

    session_id = serializers.CharField()
    status = serializers.ChoiceField(choices=MigrationRun.Status.choices)
    progress = serializers.FloatField()
    current_step = serializers.CharField()
    start_time = serializers.DateTimeField(allow_null=True)
    end_time = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    steps_completed = serializers.IntegerField()
    steps_total = serializers.IntegerField()
    performance_metrics = PerformanceSerializer()
    current_operation = OperationSerializer(allow_null=True)


class LogQuery(serializers.Serializer):
    level = serializers.CharField(required=False, help_text="Minimum level: DEBUG, INFO, WARNING or ERROR, any case.")
    since = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)

    def validate_level(self, level: str) -> str:
        if level.upper() not in LEVELS:
            raise serializers.ValidationError(f"Choose one of: {', '.join(LEVELS)} (any case).")
        return level.upper()


class MigrationLogSerializer(serializers.ModelSerializer):
    timestamp = serializers.DateTimeField(source="created_at")

    class Meta:
        model = MigrationLog
        fields = ["timestamp", "level", "message", "component", "details"]


class MigrationLogsSerializer(serializers.Serializer):
    """A page of a migration's log (selectors.migration_logs)."""

    session_id = serializers.CharField()
    logs = MigrationLogSerializer(many=True)
    total_logs = serializers.IntegerField()
    has_more = serializers.BooleanField()


class OverallMetrics(serializers.Serializer):
    duration = serializers.FloatField(allow_null=True)
    progress = serializers.FloatField()
    estimated_remaining = serializers.FloatField(allow_null=True, help_text="Seconds, from the pace so far.")


class TransferMetrics(serializers.Serializer):
    rate_current = serializers.CharField(allow_null=True)
    rate_average = serializers.CharField(allow_null=True)
    rate_peak = serializers.CharField(allow_null=True)
    bytes_transferred = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    files_transferred = serializers.IntegerField()
    files_total = serializers.IntegerField()


class DatabaseMetrics(serializers.Serializer):
    tables_migrated = serializers.IntegerField(allow_null=True)
    tables_total = serializers.IntegerField(allow_null=True)
    rows_migrated = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    data_size = serializers.CharField(allow_null=True)


class SystemMetrics(serializers.Serializer):
    cpu_usage = serializers.FloatField(allow_null=True, help_text="Percent of one CPU the worker used.")
    memory_usage = serializers.CharField(allow_null=True, help_text="The worker's resident memory.")
    disk_usage = serializers.CharField(allow_null=True, help_text="Not measured by this deployment (null).")
    network_usage = serializers.CharField(allow_null=True, help_text="Transfers are local here (null).")


class ErrorMetrics(serializers.Serializer):
    total_errors = serializers.IntegerField()
    total_warnings = serializers.IntegerField()
    retry_count = serializers.IntegerField()


class MetricsSerializer(serializers.Serializer):
    overall = OverallMetrics()
    transfer = TransferMetrics()
    database = DatabaseMetrics()
    system = SystemMetrics()
    errors = ErrorMetrics()
    parts = serializers.DictField(help_text="Per part (main, or files and database): kind, items and bytes done and "
                                            "total, copied and skipped, seconds, rate, tables, verified.")


class MigrationMetricsSerializer(serializers.Serializer):
    """A migration's measures (selectors.migration_metrics)."""

    session_id = serializers.CharField()
    metrics = MetricsSerializer()


class StartInput(StrictInput):
    auto_rollback = serializers.BooleanField(default=False, help_text="Restore the backup if this run fails.")
    send_notifications = serializers.BooleanField(
        default=False, help_text="Recorded on the migration; notices of the outcome go out through webhooks.")


class FailedCheckSerializer(serializers.Serializer):
    check = serializers.CharField(help_text='What failed, as `<side>_<aspect>`: "source_connectivity", '
                                            '"destination_permissions", "destination_free_space".')
    error = serializers.CharField(help_text="What the check found.")
    suggestion = serializers.CharField(help_text="What to do about it.")


class PreflightRefusalSerializer(serializers.Serializer):
    """Pre-migration validation failed (`unprocessable`; `VALIDATION_FAILED` on the guide's paths): a check that
    POST /validate/ runs failed against the real systems (a source that cannot be reached, a destination that
    cannot be written, too little space), so the migration was not started and nothing was written. (A 422
    without `failed_checks` is an `Idempotency-Key` sent before with another body.)"""

    failed_checks = FailedCheckSerializer(many=True, required=False)


class RollbackOptions(StrictSerializer):
    restore_files = serializers.BooleanField(default=True)
    restore_database = serializers.BooleanField(default=True)
    restore_configuration = serializers.BooleanField(
        default=False, help_text="Migrations here move files and databases only: true is a 400.")

    def validate_restore_configuration(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError("Unsupported by this deployment: its migrations move no "
                                              "configuration, only files and databases.")
        return value


class RollbackInput(StrictInput):
    backup_id = serializers.CharField(required=False, help_text="The migration's backup (its id is checked).")
    rollback_options = serializers.JSONField(
        required=False, help_text="{restore_files: true, restore_database: true, restore_configuration: false}: "
                                  "the parts restored.")

    def validate_rollback_options(self, value: object) -> dict[str, bool]:
        return validate_options(value, RollbackOptions, "rollback_options")


PRESET_FIELDS = ["id", "slug", "name", "description", "source_types", "destination_types", "config_template",
                 "variables", "custom", "created_at", "updated_at"]


class PresetSerializer(StrictInput, ResourceSerializer):
    """A preset, named by its slug (`id` is the slug too, as the guide reads it). `custom` is a tenant's own."""

    id = serializers.CharField(source="slug", read_only=True, help_text="The slug: GET /presets/{id}.")
    config_template = serializers.JSONField(help_text="{source, destination, transfer?, safety?}; strings may hold "
                                                      "{{variable}} placeholders.")
    variables = serializers.JSONField(required=False, help_text='[{"name": "source_host", "type": "string", '
                                                                '"required": true, "default": ...}]; types: string, '
                                                                'integer, number, boolean.')
    source_types = serializers.ListField(child=serializers.CharField(), required=False)
    destination_types = serializers.ListField(child=serializers.CharField(), required=False)
    custom = serializers.BooleanField(read_only=True)

    class Meta:
        model = Preset
        fields = PRESET_FIELDS
        read_only_fields = ["id", "custom", "created_at", "updated_at"]


class CreateFromPresetInput(StrictInput):
    variables = serializers.DictField(required=False, default=dict,
                                      help_text='Values of the preset\'s variables: {"source_host": "..."}.')
    overrides = serializers.DictField(required=False, default=dict,
                                      help_text='Dotted paths into the filled config: {"source.path": "..."}.')
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
