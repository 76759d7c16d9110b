"""Reads about agents: the log lines of an agent's latest run."""
from datetime import datetime

from django.db.models import QuerySet

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
