"""The platform's figures, computed in the database over what the caller may see: dashboards, per-project and
per-agent metrics, time series over day/week/month/quarter/year, and request and job performance."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from apps import api
from apps.agents.models import Agent, Report
from apps.api.scoping import scope_queryset
from apps.issues.models import Issue
from apps.issues.selectors import issue_stats
from apps.jobs.models import Job
from apps.platform.aggregates import counts_by, elapsed, mean_seconds, per_period, period_start, periods
from apps.platform.metrics import request_latency_summary
from apps.projects.models import Project
from apps.pulls.models import PullRequest
from apps.pulls.selectors import pull_request_stats

from .models import AnalyticsEvent

#: Range -> (how far back, bucket width).
RANGES = {"day": (timedelta(days=1), "hour"), "week": (timedelta(days=7), "day"),
          "month": (timedelta(days=30), "day"), "quarter": (timedelta(days=91), "week"),
          "year": (timedelta(days=365), "month")}
SERIES = ["issues_resolved", "prs_reviewed", "agent_executions", "quality_scores", "response_times"]
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Visible:
    """What one caller may see, each through its resource's own scoping (the HTTP lists' chokepoint)."""

    projects: QuerySet[Project]
    agents: QuerySet[Agent]
    issues: QuerySet[Issue]
    pull_requests: QuerySet[PullRequest]
    runs: QuerySet[Job]
    events: QuerySet[AnalyticsEvent]

    @classmethod
    def to(cls, caller: Any) -> Visible:
        def scoped(model):
            return scope_queryset(model.objects.all(), request=caller, resource=api.site.get_resource(model))

        return cls(projects=scoped(Project), agents=scoped(Agent), issues=scoped(Issue),
                   pull_requests=scoped(PullRequest), runs=scoped(Job).filter(type="agents.run"),
                   events=scoped(AnalyticsEvent))

    @property
    def reports(self) -> QuerySet[Report]:
        return Report.objects.filter(project__in=self.projects.values("pk"))


def dashboard(visible: Visible) -> dict[str, Any]:
    since = timezone.now() - RECENT
    return {
        "projects": visible.projects.aggregate(total=Count("pk"), enabled=Count("pk", filter=Q(enabled=True))),
        "agents": {"total": visible.agents.count(),
                   "by_status": counts_by(visible.agents, "status", Agent.Status.values)},
        "issues": issue_stats(visible.issues),
        "pull_requests": pull_request_stats(visible.pull_requests),
        "agent_executions": run_figures(visible.runs),
        "quality": quality_figures(visible.reports),
        "events_last_30_days": counts_by(visible.events.filter(occurred_at__gte=since), "name"),
    }


def project_metrics(visible: Visible, project: Project) -> dict[str, Any]:
    reports = visible.reports.filter(project=project)
    return {
        "project": project.pk,
        "issues": issue_stats(visible.issues.filter(project=project)),
        "pull_requests": pull_request_stats(visible.pull_requests.filter(project=project)),
        "agents": counts_by(visible.agents.filter(project=project), "status", Agent.Status.values),
        "agent_executions": run_figures(visible.runs.filter(params__agent_id__in=list(
            visible.agents.filter(project=project).values_list("pk", flat=True)))),
        "quality": quality_figures(reports),
    }


def agent_metrics(visible: Visible, agent: Agent) -> dict[str, Any]:
    return {"agent": agent.pk, "status": agent.status,
            "executions": run_figures(visible.runs.filter(params__agent_id=agent.pk)),
            "quality": quality_figures(visible.reports.filter(agent=agent))}


def run_figures(runs: QuerySet[Job]) -> dict[str, Any]:
    by_status = counts_by(runs, "status", Job.Status.values)
    finished = by_status["succeeded"] + by_status["failed"]
    return {"total": sum(by_status.values()), "by_status": by_status,
            "success_rate": round(by_status["succeeded"] / finished, 3) if finished else None,
            "mean_duration_seconds": mean_seconds(runs, "started_at", "finished_at"),
            "last_30_days": runs.filter(created_at__gte=timezone.now() - RECENT).count()}


def quality_figures(reports: QuerySet[Report]) -> dict[str, Any]:
    figures = reports.aggregate(reports=Count("pk"), mean_score=Avg("quality_score"))
    latest = reports.order_by("-created_at", "-pk").values_list("quality_score", flat=True).first()
    mean = figures["mean_score"]
    return {"reports": figures["reports"], "mean_score": round(mean, 1) if mean is not None else None,
            "latest_score": latest}


def timeseries(visible: Visible, series: str, range_name: str, *, now: datetime | None = None) -> dict[str, Any]:
    """One value per bucket of the range, oldest first, empty buckets included (0, or null for averages)."""
    span, width = RANGES[range_name]
    end = now or timezone.now()
    start = period_start(end - span, width)
    rows, when, value, empty = _series_query(visible, series)
    found = per_period(rows.filter(**{f"{when}__gte": start}), when, width, value=value)
    points = [{"timestamp": moment, "value": _rounded(found[moment]["value"] if moment in found else empty)}
              for moment in periods(start, end, width)]
    return {"type": series, "range": range_name, "interval": width, "points": points}


def _series_query(visible: Visible, series: str) -> tuple[QuerySet, str, Any, Any]:
    """The rows, the moment each counts at, the aggregate per bucket, and the value of an empty bucket."""
    if series == "issues_resolved":
        return visible.issues.filter(resolved_at__isnull=False), "resolved_at", Count("pk"), 0
    if series == "prs_reviewed":
        return visible.reports.filter(kind=Report.Kind.REVIEW), "created_at", Count("pk"), 0
    if series == "agent_executions":
        return visible.runs, "created_at", Count("pk"), 0
    if series == "quality_scores":
        return visible.reports, "created_at", Avg("quality_score"), None
    to_resolve = Avg(elapsed("created_at", "resolved_at"))
    return visible.issues.filter(resolved_at__isnull=False), "resolved_at", to_resolve, None


def performance(visible: Visible) -> dict[str, Any]:
    """Request latency of the whole deployment (every process, from the metrics kept in Redis) and the caller's
    agent runs finished in the last hour."""
    hour_ago = timezone.now() - timedelta(hours=1)
    finished = visible.runs.filter(finished_at__gte=hour_ago)
    return {"requests": request_latency_summary(),
            "jobs": {"finished_last_hour": finished.count(),
                     "per_minute": round(finished.count() / 60, 3),
                     "mean_duration_seconds": mean_seconds(finished, "started_at", "finished_at")}}


def _rounded(value: Any) -> Any:
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 3)
    return round(value, 3) if isinstance(value, float) else value
