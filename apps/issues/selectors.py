"""Reads about issues: the statistics of GET /issues/stats, computed in the database."""
from typing import Any

from django.db.models import QuerySet

from apps.platform.aggregates import counts_by, mean_seconds

from .models import Issue


def issue_stats(issues: QuerySet[Issue]) -> dict[str, Any]:
    """Counts by status and by priority, and the mean time from opening to resolution, over `issues`."""
    by_status = counts_by(issues, "status", Issue.Status.values)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_priority": counts_by(issues, "priority", Issue.Priority.values),
        "mean_time_to_resolve_seconds": mean_seconds(issues, "created_at", "resolved_at"),
    }
