"""HTTP surface of the agents app: agents through the generator, plus the verbs that run them."""
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps import api
from apps.projects.rates import CRUD_RATES, RESOURCE_RATES
from apps.api.viewsets import ApiView
from apps.jobs.models import JobLog

from . import selectors, services
from .models import Agent


class LevelField(serializers.ChoiceField):
    """A log level in any case (`INFO` or `info`)."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(str(data).lower())


class LogQuery(serializers.Serializer):
    level = LevelField(choices=selectors.LEVELS, required=False, help_text="Minimum level: info, warning, error.")
    since = serializers.DateTimeField(required=False, help_text="Only lines written after this time.")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class AgentLogSerializer(serializers.ModelSerializer):
    timestamp = serializers.DateTimeField(source="created_at")

    class Meta:
        model = JobLog
        fields = ["timestamp", "level", "step", "message", "progress"]


class ReportInput(serializers.Serializer):
    progress = serializers.FloatField(required=False, min_value=0, max_value=100)
    step = serializers.CharField(required=False, max_length=200)
    message = serializers.CharField(required=False, max_length=500, help_text="A log line of the run.")
    level = LevelField(choices=selectors.LEVELS, default="info")
    status = serializers.ChoiceField(choices=["completed", "failed"], required=False,
                                     help_text="The outcome, once: the run ends with it.")
    result = serializers.JSONField(required=False, help_text="What the run produced (with status completed).")
    error = serializers.CharField(required=False, max_length=2000, help_text="Why it failed (with status failed).")


class ReportAnswerSerializer(serializers.Serializer):
    agent = serializers.IntegerField(source="pk")
    status = serializers.CharField()


class AgentRunReportView(ApiView):
    """For agent services: report on a run handed to you (issue_resolver and custom agents), with the API key of
    your `agent`-role account. Progress and a log line as often as useful; `status` once, at the end. Any run not
    handed to you, or already finished (cancelled, for instance), is 404: stop working on it."""

    scope = "agents:report"

    @extend_schema(request=ReportInput, responses={200: ReportAnswerSerializer})
    def post(self, request: Request, agent_id: str) -> Response:
        agent = services.agent_report(int(agent_id), reporter=request.user, **self.validated(ReportInput))
        return Response(ReportAnswerSerializer(agent).data)


@api.register(Agent)
class AgentResource(api.Resource):
    """Automated work on one of your projects. `type` is `code_analyzer` (lint findings, complexity, line counts
    and a quality score for a branch) or `pr_reviewer` (a review of the lines `head` changes since `base`), and
    `config` is checked against that type's schema: unknown keys are a 400 naming them.

    `start` queues a run (`status`: pending -> running -> completed | failed | cancelled); follow its status and
    progress on the WebSocket /ws/agents/{id}/ and its log lines on /ws/logs/{id}/ (signed in as for /ws/jobs/), or
    read `logs`. `result` holds the last run's report. A run ends with its job however the job ends: `failed` with
    the job's reason in `error` (also when its worker died or the queue could not take it), `cancelled` when it is
    cancelled here or through /jobs/{id}/cancel. Each user sees only their own agents."""

    name = "agents"
    scope = "agents"
    tenant_field = "tenant"
    owner_field = "owner"
    events = True  # agents.created / .updated / .deleted / .start / .cancel, and each run's lifecycle:
    lifecycle_events = ("running", "completed", "failed", "cancelled")  # agents.running, .completed, ... (services)

    fields = ["id", "project", "name", "type", "config", "status", "job", "result", "error", "started_at",
              "finished_at", "created_at", "updated_at"]
    read_only = ["id", "status", "job", "result", "error", "started_at", "finished_at", "created_at", "updated_at"]
    filters = {"project": "project", "type": "type", "status": "status"}
    search = ["name"]
    ordering = ["name", "created_at", "started_at"]
    default_ordering = ["-created_at"]
    throttle = RESOURCE_RATES
    throttles = {**CRUD_RATES, "start": "10/m", "cancel": "10/m", "logs": "30/m"}

    admin = api.Admin(list_display=("name", "type", "status", "project", "owner", "tenant", "started_at"),
                      list_filter=("type", "status", "tenant"), search_fields=("name",), extra={"actions": [
                          api.admin_action("start", "Start selected agents", services.agent_start,
                                           operator="started_by", done="run queued"),
                          api.admin_action("cancel", "Cancel selected agents", services.agent_cancel,
                                           operator="cancelled_by", done="cancelled, or asked to stop"),
                      ]})

    def perform_create(self, request: Request, data: dict[str, Any]) -> Agent:
        return services.agent_create(tenant=request.tenant, owner=request.user, **data)

    def perform_update(self, request: Request, instance: Agent, data: dict[str, Any]) -> Agent:
        return services.agent_update(instance, data)

    def perform_destroy(self, request: Request, instance: Agent) -> None:
        services.agent_delete(instance)

    @api.action(detail=True, methods=["post"], scope="agents:write", status=202)
    def start(self, request: Request, agent: Agent) -> Agent:
        """Queue a run of the agent (202). A queued or running agent, or one whose project is disabled, is 409."""
        return services.agent_start(agent, started_by=request.user)

    @api.action(detail=True, methods=["post"], scope="agents:write")
    def cancel(self, request: Request, agent: Agent) -> Agent:
        """Stop the run: a queued run never starts, a running one stops within about a second. Otherwise 409."""
        return services.agent_cancel(agent, cancelled_by=request.user)

    @api.action(detail=True, scope="agents:read", input=LogQuery, output=AgentLogSerializer, many=True)
    def logs(self, request: Request, agent: Agent, data: dict[str, Any]) -> QuerySet[JobLog]:
        """The latest run's log lines, oldest first: at least `level`, after `since`, at most `limit` (100)."""
        return selectors.agent_logs(agent, **data)


api.site.route(r"agent-runs/(?P<agent_id>[0-9]+)/report", AgentRunReportView, name="agent-run-report")
