"""The issue workflow (open -> in_progress -> resolved | closed, and reopening) and the sync from GitHub."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.agents import services as agents
from apps.agents.models import Agent
from apps.api.errors import Conflict, ValidationFailed
from apps.github.client import GitHub
from apps.github.services import answering_for_github, repository_of

from .models import Issue

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.projects.models import Project
    from apps.tenants.models import Tenant

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


def issues_sync(*, tenant: Tenant, owner: User, project: Project) -> dict[str, int]:
    """Copy the project's GitHub issues in (pull requests left out): new ones are created, known ones (by number)
    take GitHub's title, description, labels and open/closed state; an issue in progress here stays so while
    GitHub has it open. Closed as completed reads as resolved."""
    items = _github_issues(project)
    with transaction.atomic():
        known = {issue.github_number: issue for issue in Issue.objects.select_for_update().filter(
            project=project, github_number__in=[item["number"] for item in items])}
        new, changed = [], []
        for item in items:
            issue = known.get(item["number"]) or Issue(tenant=tenant, owner=owner, project=project,
                                                       github_number=item["number"])
            _copy_from_github(issue, item)
            (changed if issue.pk else new).append(issue)
        Issue.objects.bulk_create(new)
        Issue.objects.bulk_update(changed, ["title", "description", "labels", "status", "resolved_at", "updated_at"])
    return {"created": len(new), "updated": len(changed)}


def _github_issues(project: Project) -> list[dict[str, Any]]:
    owner, repo = repository_of(project)
    with answering_for_github():
        return GitHub().issues(owner, repo)


def _copy_from_github(issue: Issue, item: dict[str, Any]) -> None:
    issue.title = (item.get("title") or "(untitled)")[:300]
    issue.description = item.get("body") or ""
    issue.labels = list(dict.fromkeys(label["name"][:50] for label in item.get("labels", [])))[:20]
    if item.get("state") == "closed":
        completed = item.get("state_reason") == "completed"
        issue.status = Status.RESOLVED if completed else Status.CLOSED
        issue.resolved_at = parse_datetime(item["closed_at"]) if completed and item.get("closed_at") else None
    elif issue.status not in (Status.OPEN, Status.IN_PROGRESS):
        issue.status, issue.resolved_at = Status.OPEN, None
    issue.updated_at = timezone.now()


@transaction.atomic
def issue_assign(issue: Issue, *, assigned_by: User, instructions: str = "") -> Issue:
    """Hand an open issue to an issue_resolver agent (made on its first assignment) and start its run: the issue
    is in progress until the run ends (resolved when it succeeds, open again when it does not)."""
    issue = Issue.objects.select_for_update(of=("self",)).select_related("agent", "project").get(pk=issue.pk)
    if issue.status not in (Status.OPEN, Status.IN_PROGRESS):
        raise Conflict(f"A {issue.get_status_display().lower()} issue cannot be assigned; reopen it first.")
    config = {"issue": issue.pk, **({"instructions": instructions} if instructions else {})}
    if issue.agent is None:
        issue.agent = agents.agent_create(tenant=issue.tenant, owner=assigned_by, project=issue.project,
                                          name=f"Resolve: {issue.title}"[:200], type=Agent.Type.ISSUE_RESOLVER,
                                          config=config)
    else:
        agents.agent_update(issue.agent, {"config": config})
    agents.agent_start(issue.agent, started_by=assigned_by)
    issue.status = Status.IN_PROGRESS
    issue.save(update_fields=["agent", "status", "updated_at"])
    return issue


def issue_follow_run(*, agent: Agent, status: str, result: Any) -> None:
    """When an issue's resolver run ends: resolved with the run's `resolution` when it completed and says
    `resolved`, otherwise open again for people (or another assignment)."""
    issue = Issue.objects.filter(agent=agent, status=Status.IN_PROGRESS).first()
    if issue is None:
        return
    if status == Agent.Status.COMPLETED and isinstance(result, dict) and result.get("resolved"):
        issue_resolve(issue, resolution=str(result.get("resolution", ""))[:10_000])
    else:
        Issue.objects.filter(pk=issue.pk).update(status=Status.OPEN, updated_at=timezone.now())
