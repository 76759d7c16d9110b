"""Reads about pull requests: stats and the latest review, computed in the database."""
from typing import Any

from django.db.models import Avg, QuerySet

from apps.agents.models import Agent, Report
from apps.api.errors import NotFound
from apps.platform.aggregates import counts_by

from .models import PullRequest

APPROVAL_STATUSES = ["approved", "commented", "changes_requested"]


def pull_request_stats(pull_requests: QuerySet[PullRequest]) -> dict[str, Any]:
    """Counts by state, how many were reviewed and with which verdict, and the mean quality score of reviews."""
    by_state = counts_by(pull_requests, "state", PullRequest.State.values)
    reviewed = pull_requests.filter(reviewer__status=Agent.Status.COMPLETED)
    verdicts = counts_by(reviewed, "reviewer__result__approval_status", APPROVAL_STATUSES)
    scores = Report.objects.filter(kind=Report.Kind.REVIEW, agent__in=pull_requests.values("reviewer"))
    return {
        "total": sum(by_state.values()),
        "by_state": by_state,
        "reviewed": reviewed.count(),
        "by_approval_status": verdicts,
        "mean_code_quality_score": _rounded(scores.aggregate(mean=Avg("quality_score"))["mean"]),
    }


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def reviewed(pull_request: PullRequest) -> PullRequest:
    """The pull request with its reviewer, or a 404 when it was never reviewed."""
    if pull_request.reviewer_id is None:
        raise NotFound("This pull request has not been reviewed yet; POST review starts one.")
    return pull_request
