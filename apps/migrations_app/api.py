"""HTTP surface of the migrations app: runs and presets through the generator, plus the verbs that drive them."""
import math
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import QuerySet
from django.utils.timezone import now
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps import api
from apps.api.scoping import scope_queryset
from apps.api.viewsets import ApiView

from . import batches, selectors, services
from .adapters.registry import ADAPTERS, SITE_KINDS, TRANSFERS
from .config import TRANSFER_METHODS
from .guide import GuideSurface
from .models import MigrationRun, MigrationTemplate, Preset
from .serializers import (MIGRATION_FIELDS, PRESET_FIELDS, CreateFromPresetInput, LogQuery, MigrationAnalyticsQuery,
                          MigrationAnalyticsSerializer, MigrationLogsSerializer, MigrationMetricsSerializer,
                          MigrationSerializer, MigrationStatusSerializer, PreflightRefusalSerializer, PresetSerializer,
                          RollbackInput, StartInput, StrictInput, TemplateSerializer)


class MigrationConfigInput(StrictInput):
    """A migration plan: each side is `{"type": ..., ...}`; see GET /system/types for what each type takes. A
    `name` and `description` may come along (as in a create body); other keys are a 400 naming them."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    source = serializers.JSONField()
    destination = serializers.JSONField()
    transfer = serializers.JSONField(required=False)
    safety = serializers.JSONField(required=False)


def readable_duration(seconds: float | None) -> str | None:
    """An estimate as people say one: a range of whole minutes or hours, ±20% of `seconds` ("35-45 minutes")."""
    if seconds is None:
        return None
    low, high = seconds * 0.8, seconds * 1.2
    if high < 60:
        return "less than a minute"
    unit, size = ("minutes", 60) if high < 2 * 3600 else ("hours", 3600)
    first, last = max(math.floor(low / size), 1), max(math.ceil(high / size), 1)
    return f"{first}-{last} {unit}" if first < last else f"about {first} {unit}"


class ValidationReportSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    checks_performed = serializers.SerializerMethodField(help_text="How many checks ran (named in `checks`).")
    checks = serializers.ListField(source="checks_performed", child=serializers.CharField(),
                                   help_text="The checks that ran, by name.")
    checks_passed = serializers.IntegerField()
    checks_failed = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    errors = serializers.ListField(child=serializers.CharField())
    can_proceed = serializers.BooleanField()
    estimated_duration = serializers.SerializerMethodField(
        help_text='A readable range from the measured size ("35-45 minutes"); null when nothing could be measured.')
    estimated_seconds = serializers.FloatField(source="estimated_duration", allow_null=True,
                                               help_text="The same estimate in seconds.")
    measured_bytes = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.INT)
    def get_checks_performed(self, report: dict[str, Any]) -> int:
        return len(report["checks_performed"])

    @extend_schema_field({"type": "string", "nullable": True})
    def get_estimated_duration(self, report: dict[str, Any]) -> str | None:
        return readable_duration(report["estimated_duration"])


class ScheduleInput(StrictInput):
    """When to start the migration: once, at `scheduled_time` (in `timezone` when it carries no offset)."""

    schedule_type = serializers.ChoiceField(
        choices=["datetime"], default="datetime",
        error_messages={"invalid_choice": "Unsupported schedule_type {input}: this deployment schedules one start at "
                                          "a date and time (datetime)."})
    scheduled_time = serializers.CharField(required=False, help_text="ISO 8601; without an offset, in `timezone`.")
    run_at = serializers.DateTimeField(required=False, help_text="Tessera's name for an ISO 8601 `scheduled_time`.")
    timezone = serializers.CharField(default="UTC", help_text="An IANA time zone name (`Europe/Paris`).")
    auto_start = serializers.BooleanField(default=True, help_text="Only true: a scheduled migration starts itself.")
    notifications = serializers.JSONField(required=False, help_text="Not delivered by this deployment: a 400.")

    def validate_timezone(self, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(f"Unknown time zone {value!r}: use an IANA name such as UTC.") from None
        return value

    def validate_notifications(self, value: Any) -> NoReturn:
        raise serializers.ValidationError("Unsupported: this deployment does not send schedule notifications; follow "
                                          "the migration on /ws/migrations/{session_id} instead.")

    def validate_auto_start(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Unsupported: a scheduled migration starts itself at scheduled_time, so "
                                              "auto_start can only be true.")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("scheduled_time" in data) == ("run_at" in data):
            raise serializers.ValidationError({"scheduled_time": ["Give scheduled_time (or run_at), once."]})
        if "scheduled_time" in data:
            parsed = parse_datetime(data["scheduled_time"])
            if parsed is None:
                raise serializers.ValidationError({"scheduled_time": ["Not an ISO 8601 date and time."]})
            data["run_at"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(data["timezone"]))
        if data["run_at"] <= now():
            raise serializers.ValidationError({"scheduled_time" if "scheduled_time" in data else "run_at":
                                               ["Must be in the future."]})
        return data


class BatchOptionsInput(StrictInput):
    parallel_limit = serializers.IntegerField(min_value=1, required=False,
                                              help_text="Migrations of the batch running at once (default: all).")
    stop_on_failure = serializers.BooleanField(default=False,
                                               help_text="A failure leaves the batch's unstarted migrations pending.")


class BatchInput(StrictInput):
    migrations = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=50,
                                       help_text="Migrations as for POST /migrations/ ({name, source, destination, "
                                                 "...}).")
    batch_options = BatchOptionsInput(required=False, help_text="Run the batch: how many at once, and whether a "
                                                                "failure stops it.")
    start = serializers.BooleanField(default=False, help_text="Run the batch with no limit (as batch_options: {}).")


@api.register(MigrationRun)
class MigrationResource(api.Resource):
    """Moves files or a database from a source to a destination, in the background. A migration is named by its
    `session_id`. Credentials given in the config are stored encrypted and always shown as [redacted]. Config
    errors name the field (`source.path`), unknown keys included. Everyone in the tenant reads its migrations;
    members create them and run their own; the tenant's owners and admins, and platform admins, run all."""

    name = "migrations"
    scope = "migrations"
    tenant_field = "tenant"
    serializer_class = MigrationSerializer
    fields = MIGRATION_FIELDS
    read_only = MigrationSerializer.Meta.read_only_fields
    select_related = ("job",)
    lookup = staticmethod(selectors.migration_lookup)
    lookup_value_regex = "[0-9a-f]+"  # a session_id (32 of them); anything else is a 404
    lookup_url_kwarg = "session_id"
    filters = {"status": "status", "status_filter": "status"}  # status_filter: the guide's name for it
    search = ["name"]
    ordering = ["created_at", "name"]
    default_ordering = ["-created_at"]
    operations = ("list", "create", "retrieve", "destroy")
    # migration.started, .progress (each whole percent), .completed, .failed, .cancelled, .rolled_back (services.py)
    event_name = "migration"
    lifecycle_events = ("started", "running", "progress", "completed", "failed", "cancelled", "rollback_started",
                        "rolled_back")
    events = True
    admin = False  # migrations_app/admin.py shows logs inline and adds cancel and rollback

    def perform_create(self, request: Request, data: dict[str, Any]) -> MigrationRun:
        return services.migration_create(tenant=request.tenant, created_by=request.user, **data)

    def perform_destroy(self, request: Request, instance: MigrationRun) -> None:
        """Delete a migration that is not running and discard its backups (needs migrations:delete)."""
        controlled(request, instance)
        services.migration_delete(instance, deleted_by=request.user)

    @api.action(detail=False, methods=["post"], url_path="validate", scope="migrations:write",
                input=MigrationConfigInput, output=ValidationReportSerializer)
    def validate(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """Check a plan against the real systems without moving anything (reachability, permissions, free space,
        schema conflicts) and estimate its duration. Config errors are 400 with the field named."""
        return services.migration_validate(data, tenant=request.tenant)

    @api.action(detail=True, methods=["post"], scope="migrations:write", input=StartInput, status=202,
                errors={422: PreflightRefusalSerializer})
    def start(self, request: Request, migration: MigrationRun, data: dict[str, Any]) -> MigrationRun:
        """Start the migration (202, status `started`); progress streams on /ws/jobs/{job}/. `auto_rollback`
        restores the backup if this run fails. Starting a started or running migration is 409. The checks of
        POST /validate/ run first: if one fails, the start is a 422 listing `failed_checks`, and nothing starts."""
        controlled(request, migration)
        return services.migration_start(migration, started_by=request.user, **data)

    @api.action(detail=True, methods=["post"], scope="migrations:write")
    def cancel(self, request: Request, migration: MigrationRun) -> MigrationRun:
        """Stop a scheduled, started or running migration at its next checkpoint; copied data is kept for
        rollback."""
        controlled(request, migration)
        return services.migration_cancel(migration, cancelled_by=request.user)

    @api.action(detail=True, methods=["post"], scope="migrations:write", input=RollbackInput, status=202)
    def rollback(self, request: Request, migration: MigrationRun, data: dict[str, Any]) -> MigrationRun:
        """Restore the destination exactly as it was before the migration, from its backup (202, status
        `rollback_started`): the parts `rollback_options` choose. No backup: 409; another `backup_id`: 400."""
        controlled(request, migration)
        return services.migration_rollback(migration, requested_by=request.user, **data)

    @api.action(detail=True, url_path="status", scope="migrations:read", output=MigrationStatusSerializer)
    def run_status(self, request: Request, migration: MigrationRun) -> dict[str, Any]:
        """Where the migration is: status, progress, current step and operation, times, steps done and total,
        performance (rates from bytes moved over time) and any error."""
        return selectors.migration_status(migration)

    @api.action(detail=True, scope="migrations:read", input=LogQuery, output=MigrationLogsSerializer)
    def logs(self, request: Request, migration: MigrationRun, data: dict[str, Any]) -> dict[str, Any]:
        """The run's log, oldest first: entries at `level` or above (DEBUG, INFO, WARNING, ERROR in any case),
        after `since`, at most `limit` (default 100); `total_logs` and `has_more` tell what was left out."""
        return selectors.migration_logs(migration, **data)

    @api.action(detail=True, scope="migrations:read", output=MigrationMetricsSerializer)
    def metrics(self, request: Request, migration: MigrationRun) -> dict[str, Any]:
        """Overall, transfer, database, the worker's CPU and memory, and errors and retries of the latest run."""
        return selectors.migration_metrics(migration)

    @api.action(detail=True, methods=["post"], scope="migrations:write", input=ScheduleInput, status=202)
    def schedule(self, request: Request, migration: MigrationRun, data: dict[str, Any]) -> MigrationRun:
        """Start the migration at `run_at` instead of now (202; it stays `pending` with `scheduled_for`). A busy
        migration is 409."""
        controlled(request, migration)
        return services.migration_schedule(migration, run_at=data["run_at"], scheduled_by=request.user)

    @api.action(detail=False, methods=["post"], scope="migrations:write", input=BatchInput, status=201,
                output=MigrationRun, many=True)
    def batch(self, request: Request, data: dict[str, Any]) -> list[MigrationRun]:
        """Create several migrations at once (201). With `batch_options` (or `start: true`) the batch runs too: the
        first `parallel_limit` start now and each of the others as one of the batch finishes; with
        `stop_on_failure` a failure leaves the unstarted ones pending. One invalid migration: 400, with errors
        named `migrations.<n>.<field>`, and nothing is created."""
        return batches.migration_batch(tenant=request.tenant, created_by=request.user, **data)


def controlled(request: Request, migration: MigrationRun) -> None:
    services.migration_require_control(migration, user=request.user, tenant_role=request.tenant_role)


@api.register(Preset)
class PresetResource(api.Resource):
    """Reusable migration plans, named by slug (`GET /presets/wordpress-mysql`): built-in ones shipped with
    Tessera (read-only) and your tenant's own (`custom`). A template's strings may hold `{{variable}}`
    placeholders, declared with a type, whether required and a default; create-migration fills them."""

    name = "presets"
    scope = "presets"
    visibility = selectors.presets_visible_to
    serializer_class = PresetSerializer
    fields = PRESET_FIELDS
    read_only = PresetSerializer.Meta.read_only_fields
    lookup = staticmethod(selectors.preset_lookup)
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    search = ["name", "slug"]
    ordering = ["name", "created_at"]
    default_ordering = ["name"]

    #: What the template is called in request bodies, so that errors name it as the caller wrote it.
    template_field = "config_template"

    def perform_create(self, request: Request, data: dict[str, Any]) -> Preset:
        return services.preset_save(tenant=request.tenant, created_by=request.user,
                                    template_field=self.template_field, **data)

    def perform_update(self, request: Request, instance: Preset, data: dict[str, Any]) -> Preset:
        return services.preset_save(tenant=request.tenant, created_by=request.user, instance=instance,
                                    template_field=self.template_field, **data)

    def perform_destroy(self, request: Request, instance: Preset) -> None:
        services.preset_delete(instance)

    @api.action(detail=True, methods=["post"], url_path="create-migration", scope="migrations:write",
                input=CreateFromPresetInput, output=MigrationRun, status=201)
    def create_migration(self, request: Request, preset: Preset, data: dict[str, Any]) -> MigrationRun:
        """Create a migration from this preset: its template filled with `variables` (a required one missing, or
        one of the wrong type, is a 400 naming `variables.<name>`), then dotted-path `overrides` applied; the
        result is validated like any migration (400 naming the field)."""
        return services.preset_create_migration(preset, tenant=request.tenant, created_by=request.user, **data)


@api.register(MigrationTemplate)
class TemplateResource(PresetResource):
    """Reusable migration templates of your tenant (the guide's `POST /templates/`): a `template` whose strings
    may hold `{{variable}}` placeholders, and the `variables` that fill them, each `{name, type (string, integer,
    number, boolean), required, default, description}`. Every placeholder must be declared and every declared
    variable used; a credential (`password`, ...) may only be a placeholder, without a default, so it is given
    when a migration is made. A template is one of your tenant's presets (`custom`), so it is also listed and
    usable under /presets/. Members create and change them, everyone in the tenant reads them."""

    name = "templates"
    visibility = None
    tenant_field = "tenant"  # only your tenant's own: the built-in presets are not templates
    serializer_class = TemplateSerializer
    fields = [name for name in PRESET_FIELDS if name != "custom"]  # the serializer shows config_template as `template`
    read_only = TemplateSerializer.Meta.read_only_fields
    template_field = "template"
    admin = False  # the operator console shows them among the presets

    @api.action(detail=True, methods=["post"], url_path="create-migration", scope="migrations:write",
                input=CreateFromPresetInput, output=MigrationRun, status=201)
    def create_migration(self, request: Request, template: MigrationTemplate, data: dict[str, Any]) -> MigrationRun:
        """Create a migration from this template, as from a preset: its `template` filled with `variables` (a
        required one missing, or one of the wrong type, is a 400 naming `variables.<name>`), then dotted-path
        `overrides` applied; the result is validated like any migration (400 naming the field)."""
        return services.preset_create_migration(template, tenant=request.tenant, created_by=request.user, **data)


class SourceTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    kind = serializers.ChoiceField(choices=["files", "database", "site"])
    description = serializers.CharField()
    secret_fields = serializers.ListField(child=serializers.CharField(), help_text="Accepted, never returned.")
    config_schema = serializers.DictField(required=False, help_text="JSON schema of this type's config.")
    parts = serializers.DictField(child=serializers.CharField(), required=False,
                                  help_text="Site kinds: part name -> the adapter kind it takes.")


class TransferModuleSerializer(serializers.Serializer):
    module = serializers.CharField()
    types = serializers.ListField(child=serializers.CharField())
    features = serializers.ListField(child=serializers.CharField())


class ValidateView(ApiView):
    """Alias of POST /migrations/validate."""

    scope = "migrations:write"
    schema_tag = "migrations"

    @extend_schema(request=MigrationConfigInput, responses={200: ValidationReportSerializer})
    def post(self, request: Request) -> Response:
        report = services.migration_validate(self.validated(MigrationConfigInput), tenant=request.tenant)
        return Response(ValidationReportSerializer(report).data)


class SystemTypesSerializer(serializers.Serializer):
    system_types = serializers.ListField(child=serializers.CharField(), help_text="Every source and destination type.")
    transfer_methods = serializers.ListField(child=serializers.CharField(),
                                             help_text="The `transfer.method` values this deployment runs.")
    database_types = serializers.ListField(child=serializers.CharField(), help_text="The database types among them.")
    types = SourceTypeSerializer(many=True, help_text="Each type with the config it takes and its secret fields.")


class SystemTypesView(ApiView):
    """The source and destination types a migration moves between, the transfer methods this deployment runs, the
    database types, and for each type the config it takes and its secrets."""

    scope = "migrations:read"
    schema_tag = "migrations"

    @extend_schema(responses={200: SystemTypesSerializer})
    def get(self, request: Request) -> Response:
        from apps.jobs.params_schema import params_json_schema

        adapters = [{"type": adapter.type, "kind": adapter.kind, "description": adapter.description,
                     "secret_fields": list(adapter.secret_fields),
                     "config_schema": params_json_schema(adapter.config_serializer)} for adapter in ADAPTERS.values()]
        sites = [{"type": name, "kind": "site", "description": site["description"], "secret_fields": [],
                  "parts": site["parts"]} for name, site in SITE_KINDS.items()]
        types = sorted(adapters + sites, key=lambda entry: entry["type"])
        return Response({
            "system_types": [entry["type"] for entry in types], "transfer_methods": list(TRANSFER_METHODS),
            "database_types": [entry["type"] for entry in types if entry["kind"] == "database"], "types": types})


class SystemModulesView(ApiView):
    """The transfer modules (one per adapter kind, plus sites composed of them) and what each does."""

    scope = "migrations:read"
    schema_tag = "migrations"

    @extend_schema(responses={200: TransferModuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response([
            *({"module": kind, "types": [adapter.type for adapter in ADAPTERS.values() if adapter.kind == kind],
               "features": list(transfer.features)} for kind, transfer in TRANSFERS.items()),
            {"module": "sites", "types": sorted(SITE_KINDS), "features": ["files plus a database, in one run"]},
        ])


class MigrationAnalyticsView(ApiView):
    """Figures of the migrations of your tenant that started between `start_date` and `end_date` (default: the
    last 30 days): totals, success rate, average duration and data moved; counts and success rate per source
    type; and one `performance_trends` entry per `group_by` period (day, week or month; empty periods included)
    with its migrations, average duration and average transfer rate. A bad date or `group_by`, or a start after
    the end, is a 400 naming it."""

    scope = "migrations:read"
    schema_tag = "migrations"

    @extend_schema(parameters=[MigrationAnalyticsQuery], responses={200: MigrationAnalyticsSerializer})
    def get(self, request: Request) -> Response:
        query = MigrationAnalyticsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = scope_queryset(MigrationRun.objects.all(), request=request,
                              resource=api.site.get_resource(MigrationRun))
        return Response(MigrationAnalyticsSerializer(selectors.migration_analytics(runs, **query.validated_data)).data)


api.site.route("validate", ValidateView, name="migrations-validate-alias")
api.site.route("system/types", SystemTypesView)
api.site.route("system/modules", SystemModulesView)
api.site.route("analytics/migrations", MigrationAnalyticsView)


api.site.add_surface(GuideSurface())
