"""The migrations' request and response shapes, in the Migration Assistant guide's words. /api/v1/migrations/ and
the guide's own paths use these same serializers; only the envelope around them differs."""
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from apps.api.serializers import ResourceSerializer

from .adapters.base import StrictSerializer
from .config import validate_options
from .models import MigrationLog, MigrationRun, MigrationTemplate, Preset
from .selectors import ANALYTICS_GROUPS, LEVELS

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


TEMPLATE_FIELDS = ["id", "slug", "name", "description", "template", "variables", "source_types", "destination_types",
                   "created_at", "updated_at"]


class TemplateSerializer(PresetSerializer):
    """A migration template (the guide's word for a tenant's own preset): `template` is the preset's
    `config_template`, and the slug, unless given, is made from the name."""

    config_template = custom = None  # `template` instead; a template is always custom
    template = serializers.JSONField(source="config_template",
                                     help_text="{source, destination, transfer?, safety?}; strings may hold "
                                               "{{variable}} placeholders, each declared in `variables`.")
    slug = serializers.SlugField(max_length=80, required=False,
                                 help_text="The template's id in paths; by default made from the name.")

    class Meta(PresetSerializer.Meta):
        model = MigrationTemplate
        fields = TEMPLATE_FIELDS
        read_only_fields = ["id", "created_at", "updated_at"]


class CreateFromPresetInput(StrictInput):
    variables = serializers.DictField(required=False, default=dict,
                                      help_text='Values of the preset\'s variables: {"source_host": "..."}.')
    overrides = serializers.DictField(required=False, default=dict,
                                      help_text='Dotted paths into the filled config: {"source.path": "..."}.')
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


#: Periods one analytics answer may list; a longer range needs a wider `group_by`.
MAX_PERIODS = 1000
#: The range when no `start_date` is given: this long before `end_date`.
DEFAULT_SPAN = timedelta(days=30)


class MigrationAnalyticsQuery(serializers.Serializer):
    start_date = serializers.CharField(required=False, help_text="ISO 8601: a date (2024-08-01, from its start) or a "
                                                                 "date and time (UTC when it has no offset). "
                                                                 "Default: 30 days before end_date.")
    end_date = serializers.CharField(required=False, help_text="ISO 8601: a date (2024-08-31, to its end) or a date "
                                                               "and time. Default: now.")
    group_by = serializers.ChoiceField(choices=ANALYTICS_GROUPS, default="day",
                                       help_text="The period of each performance_trends entry (UTC; weeks start on "
                                                 "Monday).")

    def validate_start_date(self, value: str) -> datetime:
        return _moment(value, end_of_day=False)

    def validate_end_date(self, value: str) -> datetime:
        return _moment(value, end_of_day=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        end = data.get("end_date") or timezone.now()
        start = data.get("start_date") or _before(end, DEFAULT_SPAN)
        if start > end:
            raise serializers.ValidationError({"start_date": [f"Must not be after end_date ({end.isoformat()})."]})
        group_by, days = data["group_by"], (end - start).days
        count = {"day": days + 1, "week": days // 7 + 2,
                 "month": (end.year - start.year) * 12 + end.month - start.month + 1}[group_by]
        if count > MAX_PERIODS:
            raise serializers.ValidationError({"group_by": [
                f"This range holds {count} periods of a {group_by}, more than {MAX_PERIODS}: group by a longer "
                "period or shorten the range."]})
        return {"start": start, "end": end, "group_by": group_by}


def _before(moment: datetime, span: timedelta) -> datetime:
    """`span` before `moment`, or the first moment there is when that is before it (an end_date in year 1)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=dt_timezone.utc)


def _moment(value: str, *, end_of_day: bool) -> datetime:
    """An ISO 8601 date (its first or last instant) or date and time (UTC when it has no offset)."""
    try:
        day = parse_date(value)
        moment = (datetime.combine(day, time.max if end_of_day else time.min) if isinstance(day, date)
                  else parse_datetime(value))
    except ValueError:  # well-formed but impossible, like 2024-02-30
        moment = None
    if moment is None:
        raise serializers.ValidationError("Not an ISO 8601 date (2024-08-01) or date and time "
                                          "(2024-08-01T00:00:00Z).")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt_timezone.utc)


class AnalyticsPeriod(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AnalyticsSummary(serializers.Serializer):
    total_migrations = serializers.IntegerField(help_text="Migrations that started in the period.")
    successful_migrations = serializers.IntegerField(help_text="Of those, the ones now completed.")
    failed_migrations = serializers.IntegerField(help_text="Of those, the ones now failed.")
    success_rate = serializers.FloatField(allow_null=True, help_text="Percent of the ended ones (completed or "
                                                                     "failed) that completed; null when none ended.")
    average_duration = serializers.CharField(allow_null=True, help_text='Of the ended ones, e.g. "28m 45s".')
    average_duration_seconds = serializers.FloatField(allow_null=True)
    total_data_transferred = serializers.CharField(help_text='Bytes the runs moved, e.g. "2.3 TB".')
    total_bytes_transferred = serializers.IntegerField()


class AnalyticsTypeFigures(serializers.Serializer):
    count = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)


class AnalyticsTrend(serializers.Serializer):
    date = serializers.DateField(help_text="The first day of the period.")
    migrations = serializers.IntegerField()
    avg_duration = serializers.CharField(allow_null=True)
    avg_duration_seconds = serializers.FloatField(allow_null=True)
    avg_transfer_rate = serializers.CharField(allow_null=True, help_text='The runs\' mean measured rate, e.g. '
                                                                         '"1.8 MB/s".')
    avg_transfer_rate_bytes = serializers.IntegerField(allow_null=True, help_text="The same in bytes per second.")


class MigrationAnalyticsSerializer(serializers.Serializer):
    """Migration analytics (selectors.migration_analytics)."""

    period = AnalyticsPeriod()
    summary = AnalyticsSummary()
    by_type = serializers.DictField(child=AnalyticsTypeFigures(), help_text="Per source type.")
    performance_trends = AnalyticsTrend(many=True, help_text="One entry per period, oldest first.")
