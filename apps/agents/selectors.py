"""Reads about agents: the log lines of an agent's latest run, and its state for the live sockets."""
from datetime import datetime

from django.db.models import QuerySet

from apps import api
from apps.api.scoping import ScopedRequest, scope_queryset
from apps.jobs.models import JobLog

from .models import Agent

#: Log levels from the least to the most severe; a `level` filter keeps that level and the ones above it.
LEVELS = [JobLog.Level.INFO, JobLog.Level.WARNING, JobLog.Level.ERROR]


def agent_logs(agent: Agent, *, level: str | None = None, since: datetime | None = None,
               limit: int = 100) -> QuerySet[JobLog]:
    """The latest run's log lines, oldest first: at `level` or above, after `since`, at most `limit`."""
    if agent.job_id is None:
        return JobLog.objects.none()
    logs = JobLog.objects.filter(job_id=agent.job_id)
    if level:
        logs = logs.filter(level__in=LEVELS[LEVELS.index(level):])
    if since:
        logs = logs.filter(created_at__gt=since)
    return logs.order_by("created_at", "pk")[:limit]


def visible_agent(request: ScopedRequest, agent_id: int) -> Agent | None:
    """The agent with its latest run, if the agents resource's scoping (as for GET /agents/{id}/) shows it."""
    agents = scope_queryset(Agent.objects.filter(pk=agent_id), request=request, resource=api.site.get_resource(Agent))
    return agents.select_related("job").first()


def agent_with_run(agent_id: int) -> Agent | None:
    return Agent.objects.select_related("job").filter(pk=agent_id).first()


def run_lines(job_id: int, *, after: int = 0, before: int | None = None, limit: int = 100) -> list[JobLog]:
    """The run's latest `limit` log lines written after line `after` (and before line `before`), by id, oldest
    first."""
    lines = JobLog.objects.filter(job_id=job_id, pk__gt=after)
    if before is not None:
        lines = lines.filter(pk__lt=before)
    lines = lines.order_by("-pk")[:limit]
    return list(reversed(lines))
