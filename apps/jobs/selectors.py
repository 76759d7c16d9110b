"""Reads about jobs: statistics for GET /jobs/stats and the story of one job for GET /jobs/{id}/progress."""
from typing import Any

from django.db.models import QuerySet

from apps.platform.aggregates import counts_by, mean_seconds

from .models import Job, JobLog


def job_stats(queryset: QuerySet[Job]) -> dict[str, Any]:
    """Counts by status and by type, and the mean duration of finished jobs, over the caller's visible jobs."""
    by_status = counts_by(queryset, "status", Job.Status.values)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_type": counts_by(queryset, "type"),
        "mean_duration_seconds": mean_seconds(queryset, "started_at", "finished_at"),
    }


def job_recent_logs(job: Job, *, limit: int = 50) -> list[JobLog]:
    """The newest log lines of a job, oldest first."""
    return list(reversed(job.logs.order_by("-created_at", "-pk")[:limit]))
