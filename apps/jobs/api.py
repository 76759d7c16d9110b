"""HTTP surface of the job engine: CRUD on jobs through the generator, plus the verbs that drive them."""
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.request import Request

from apps import api
from apps.api.errors import NotFound

from . import selectors, services
from .models import Job, JobLog
from .registry import registry
from .params_schema import params_json_schema


class JobTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    scope = serializers.CharField(allow_null=True, help_text="Scope needed to start it, besides jobs:write.")
    params_schema = serializers.DictField(help_text="JSON schema of `params` for this type.")


class JobLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLog
        fields = ["level", "progress", "step", "message", "created_at"]


class JobProgressSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    step = serializers.CharField()
    message = serializers.CharField()
    logs = JobLogSerializer(many=True, source="recent_logs")


class JobStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_type = serializers.DictField(child=serializers.IntegerField())
    mean_duration_seconds = serializers.FloatField(allow_null=True)


@api.register(Job)
class JobResource(api.Resource):
    """Background jobs you started in the active tenant. `POST` with `{type, params, priority?}` queues one (201,
    status `queued`); progress streams on the WebSocket `/ws/jobs/{id}/`. Unknown types and bad params are 400;
    a tenant already running its limit of jobs gets 409."""

    name = "jobs"
    scope = "jobs"
    tenant_field = "tenant"
    owner_field = "created_by"
    fields = ["id", "type", "params", "priority", "status", "progress", "step", "message", "result", "error",
              "attempts", "max_attempts", "timeout_seconds", "cancel_requested", "created_at", "queued_at",
              "started_at", "finished_at"]
    read_only = ["id", "status", "progress", "step", "message", "result", "error", "attempts", "max_attempts",
                 "timeout_seconds", "cancel_requested", "created_at", "queued_at", "started_at", "finished_at"]
    filters = {"status": "status", "type": "type"}
    ordering = ["created_at", "priority", "status"]
    default_ordering = ["-created_at"]
    operations = ("list", "create", "retrieve", "destroy")
    # job.queued, job.running, job.succeeded, ...: every status a job reaches (services.py), and job.deleted
    event_name = "job"
    lifecycle_events = ("queued", "running", "succeeded", "failed", "cancelled")
    events = [*lifecycle_events, "deleted"]
    admin = False  # jobs/admin.py adds cancel/retry actions and the live progress bar

    def perform_create(self, request: Request, data: dict[str, Any]) -> Job:
        return services.job_create(tenant=request.tenant, created_by=request.user, scopes=request.scopes, **data)

    def perform_destroy(self, request: Request, instance: Job) -> None:
        services.job_delete(instance)

    @api.action(detail=False, url_path="types", scope="jobs:read", output=JobTypeSerializer, many=True)
    def types(self, request: Request) -> list[dict[str, Any]]:
        """The job types you can start with POST /jobs/, each with the JSON schema of its params."""
        return [{"name": t.name, "description": t.description, "scope": t.scope,
                 "params_schema": params_json_schema(t.params)} for t in registry.public_types()]

    @api.action(detail=False, url_path="stats", scope="jobs:read", output=JobStatsSerializer)
    def stats(self, request: Request, queryset: QuerySet[Job]) -> dict[str, Any]:
        """Counts of your jobs by status and type, and the mean duration of the finished ones (`?type=` and
        `?status=` narrow it)."""
        return selectors.job_stats(queryset)

    @api.action(detail=True, url_path="progress", scope="jobs:read", output=JobProgressSerializer)
    def progress(self, request: Request, job: Job) -> Job:
        """Where the job is: status, percent, step, message and its latest log lines (the WebSocket's story)."""
        job.recent_logs = selectors.job_recent_logs(job)
        return job

    @api.action(detail=True, methods=["post"], scope="jobs:write")
    def cancel(self, request: Request, job: Job) -> Job:
        """Cancel a queued job at once, or a running one at its next progress report (within ~2 s).
        A finished job is 409."""
        return services.job_request_cancel(job, requested_by=request.user)

    @api.action(detail=True, methods=["post"], scope="jobs:write", status=202)
    def retry(self, request: Request, job: Job) -> Job:
        """Queue a failed or cancelled job again (202). Any other status is 409."""
        return services.job_retry(job, requested_by=request.user)

    @api.action(detail=True, url_path="file", scope="jobs:read", output=OpenApiTypes.BINARY)
    def file(self, request: Request, job: Job) -> HttpResponse:
        """Download the file the job produced (an export). 404 when it produced none."""
        produced = getattr(job, "file", None)
        if produced is None:
            raise NotFound("This job produced no file.")
        response = HttpResponse(bytes(produced.content), content_type=produced.content_type)
        response["Content-Disposition"] = f'attachment; filename="{produced.name}"'
        return response
