"""The issue workflow: open -> in_progress -> resolved | closed, and reopening."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.api.errors import Conflict, ValidationFailed

from .models import Issue

Status = Issue.Status
#: Where each status may go next.
TRANSITIONS = {
    Status.OPEN: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
    Status.IN_PROGRESS: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN},
    Status.CLOSED: {Status.OPEN},
}


@transaction.atomic
def issue_update(issue: Issue, data: dict[str, Any]) -> Issue:
    """Apply an edit; a status change must follow the workflow, and stamps or clears the resolution time."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    status = data.pop("status", issue.status)
    if status != issue.status:
        _move(issue, status)
    for name, value in data.items():
        setattr(issue, name, value)
    issue.save()
    return issue


@transaction.atomic
def issue_resolve(issue: Issue, *, resolution: str = "") -> Issue:
    """Mark an open or in-progress issue resolved, with what resolved it."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if issue.status not in (Status.OPEN, Status.IN_PROGRESS):
        raise Conflict(f"A {issue.get_status_display().lower()} issue cannot be resolved; reopen it first.")
    _move(issue, Status.RESOLVED)
    issue.resolution = resolution
    issue.save(update_fields=["status", "resolved_at", "resolution", "updated_at"])
    return issue


def _move(issue: Issue, status: str) -> None:
    if status not in TRANSITIONS[issue.status]:
        raise ValidationFailed(details={"status": [f"An {issue.status} issue cannot become {status}; it can become "
                                                   f"{', '.join(sorted(TRANSITIONS[issue.status]))}."]})
    issue.status = status
    issue.resolved_at = timezone.now() if status == Status.RESOLVED else None
