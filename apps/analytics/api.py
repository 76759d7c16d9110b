"""HTTP surface of analytics: custom events through the generator, and the figures as its list actions."""
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from apps import api
from apps.projects.rates import RESOURCE_RATES

from . import selectors, services
from .models import AnalyticsEvent


class EventInput(serializers.ModelSerializer):
    class Meta:
        model = AnalyticsEvent
        fields = ["name", "properties", "occurred_at"]

    def validate_properties(self, value: Any) -> dict:
        if not isinstance(value, dict) or len(value) > 50:
            raise serializers.ValidationError("An object of at most 50 properties.")
        if len(str(value)) > 10_000:
            raise serializers.ValidationError("At most 10,000 characters of properties.")
        return value


class RangeQuery(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(selectors.RANGES), default="month",
                                    help_text="day (hourly points), week or month (daily), quarter (weekly), year "
                                              "(monthly).")


class ExportQuery(RangeQuery):
    # Not `format`: DRF reads ?format= as the response's renderer.
    file_format = serializers.ChoiceField(choices=sorted(services.CONTENT_TYPES), default="csv",
                                          help_text="csv: one row per series and bucket; json: the dashboard and "
                                                    "the series.")


class FiguresSerializer(serializers.Serializer):
    """Figures as a JSON object (see the endpoint's description)."""

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        return instance


class PointSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    value = serializers.FloatField(allow_null=True)


class TimeseriesSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=selectors.SERIES)
    range = serializers.ChoiceField(choices=list(selectors.RANGES))
    interval = serializers.CharField()
    points = PointSerializer(many=True)


class ExportSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, job: Any) -> str:
        return self.context["request"].build_absolute_uri(reverse("jobs-file", args=[job.pk]))


@api.register(AnalyticsEvent)
class AnalyticsResource(api.Resource):
    """Figures about your projects, agents, issues and pull requests, computed in the database over what you may
    see, and the custom events you report. The list is your custom events."""

    name = "analytics"
    scope = "analytics"
    tenant_field = "tenant"
    owner_field = "user"
    fields = ["id", "name", "properties", "occurred_at", "created_at"]
    read_only = ["id", "created_at"]
    filters = {"name": "name", "since": "occurred_at__gte"}
    ordering = ["occurred_at"]
    default_ordering = ["-occurred_at"]
    operations = ("list",)
    throttle = RESOURCE_RATES
    throttles = {"list": "30/m", "dashboard": "30/m", "project": "30/m", "agent": "30/m", "series": "30/m",
                 "performance": "30/m", "export": "5/m", "report_event": "60/m"}
    admin = api.Admin(list_display=("name", "user", "tenant", "occurred_at"), list_filter=("tenant",))

    @api.action(detail=False, scope="analytics:read", output=FiguresSerializer)
    def dashboard(self, request: Request) -> dict[str, Any]:
        """Overview: projects, agents by status, issue and pull request stats, agent executions, quality scores
        and the custom events of the last 30 days."""
        return selectors.dashboard(selectors.Visible.to(request))

    @api.action(detail=False, url_path=r"projects/(?P<project_id>[0-9]+)", scope="analytics:read",
                output=FiguresSerializer)
    def project(self, request: Request, project_id: str) -> dict[str, Any]:
        """One project's issues, pull requests, agents, executions and quality. Not yours: 404."""
        visible = selectors.Visible.to(request)
        return selectors.project_metrics(visible, get_object_or_404(visible.projects, pk=project_id))

    @api.action(detail=False, url_path=r"agents/(?P<agent_id>[0-9]+)", scope="analytics:read",
                output=FiguresSerializer)
    def agent(self, request: Request, agent_id: str) -> dict[str, Any]:
        """One agent's executions (by status, success rate, mean duration) and the quality of its reports."""
        visible = selectors.Visible.to(request)
        return selectors.agent_metrics(visible, get_object_or_404(visible.agents, pk=agent_id))

    @api.action(detail=False, url_path=r"timeseries/(?P<series>[a-z0-9_]+)", scope="analytics:read",
                input=RangeQuery, output=TimeseriesSerializer)
    def series(self, request: Request, series: str, data: dict[str, Any]) -> dict[str, Any]:
        """A time series: `issues_resolved`, `prs_reviewed`, `agent_executions` (counts), `quality_scores` (mean
        score) or `response_times` (mean seconds from an issue's opening to its resolution), one point per bucket.
        An unknown series is 404."""
        if series not in selectors.SERIES:
            raise NotFound(f"No series {series!r}; choose among {', '.join(selectors.SERIES)}.")
        return selectors.timeseries(selectors.Visible.to(request), series, data["range"])

    @api.action(detail=False, scope="analytics:read", output=FiguresSerializer)
    def performance(self, request: Request) -> dict[str, Any]:
        """Request latency percentiles of the deployment (every process) and your agent runs of the last hour."""
        return selectors.performance(selectors.Visible.to(request))

    @api.action(detail=False, scope="analytics:read", input=ExportQuery,
                output=ExportSerializer, status=202)
    def export(self, request: Request, data: dict[str, Any]) -> Any:
        """Export the dashboard and every series over `range` as `file_format` (csv or json) in the background (202);
        download it from `download_url` once the job succeeded. (A GET, as the gateway's clients call it; each
        call starts one export, limited to 5 a minute.)"""
        return services.export_start(tenant=request.tenant, user=request.user, format=data["file_format"],
                                     range=data["range"])

    @api.action(detail=False, methods=["post"], url_path="events", scope="analytics:write", input=EventInput,
                output=AnalyticsEvent, status=201)
    def report_event(self, request: Request, data: dict[str, Any]) -> AnalyticsEvent:
        """Report a custom event: `name` (lowercase, like `deploy.finished`), `properties` (an object) and
        optionally when it `occurred_at`. Counted on the dashboard."""
        return services.event_record(tenant=request.tenant, user=request.user, **data)
