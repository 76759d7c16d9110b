"""Reads about jobs: statistics for GET /jobs/stats and the story of one job for GET /jobs/{id}/progress."""
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet

from .models import Job, JobLog


def job_stats(queryset: QuerySet[Job]) -> dict[str, Any]:
    """Counts by status and by type, and the mean duration of finished jobs, over the caller's visible jobs."""
    by_status = dict(queryset.values_list("status").annotate(n=Count("pk")).order_by())
    by_type = dict(queryset.values_list("type").annotate(n=Count("pk")).order_by())
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    mean = queryset.filter(started_at__isnull=False, finished_at__isnull=False).aggregate(mean=Avg(duration))["mean"]
    return {
        "total": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in Job.Status.values},
        "by_type": by_type,
        "mean_duration_seconds": round(mean.total_seconds(), 3) if mean is not None else None,
    }


def job_recent_logs(job: Job, *, limit: int = 50) -> list[JobLog]:
    """The newest log lines of a job, oldest first."""
    return list(reversed(job.logs.order_by("-created_at", "-pk")[:limit]))
