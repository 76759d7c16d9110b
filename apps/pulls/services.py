"""Tracking pull requests (from GitHub, or branches of a local repository) and having them reviewed."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.agents import services as agents
from apps.agents.models import Agent
from apps.api.errors import ValidationFailed
from apps.github.client import GitHub
from apps.github.services import answering_for_github, repository_of
from apps.projects.repositories import github_repository

from .models import PullRequest

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant


def pull_request_track(*, tenant: Tenant, owner: User, project, number: int | None = None, **fields: Any
                       ) -> PullRequest:
    """Start tracking a pull request: by `number` on a GitHub project (read from GitHub now), or by `base` and
    `head` branches on a local repository."""
    if github_repository(project.repository_url):
        if number is None:
            raise ValidationFailed(details={"number": ["Give the GitHub pull request number."]})
        pull_request = PullRequest(tenant=tenant, owner=owner, project=project, number=number, **fields)
        _copy_from_github(pull_request)
    else:
        missing = [name for name in ("base", "head") if not fields.get(name)]
        if number is not None or missing:
            raise ValidationFailed(details={
                **({"number": ["Only pull requests of GitHub projects have a number."]} if number else {}),
                **{name: ["Give the branch (this project's repository is not on GitHub)."] for name in missing}})
        pull_request = PullRequest(tenant=tenant, owner=owner, project=project, **fields)
    if PullRequest.objects.filter(project=project, number=number).exclude(number=None).exists():
        raise ValidationFailed(details={"number": ["This pull request is tracked already."]})
    pull_request.save()
    return pull_request


def pull_request_sync(pull_request: PullRequest) -> PullRequest:
    """Read the pull request from GitHub again: title, description, branches, state, author and size."""
    if pull_request.number is None:
        raise ValidationFailed(details={"number": ["Only pull requests of GitHub projects sync."]})
    _copy_from_github(pull_request)
    pull_request.save()
    return pull_request


@transaction.atomic
def pull_request_review(pull_request: PullRequest, *, level: str, started_by: User) -> PullRequest:
    """Start a review run at `level` by the pull request's reviewer agent (made on its first review)."""
    pull_request = (PullRequest.objects.select_for_update(of=("self",)).select_related("reviewer", "project")
                    .get(pk=pull_request.pk))
    config = {"level": level, "base": pull_request.base, "head": pull_request.head_ref,
              "pull_request": pull_request.pk}
    reviewer = pull_request.reviewer
    if reviewer is None:
        reviewer = agents.agent_create(tenant=pull_request.tenant, owner=started_by, project=pull_request.project,
                                       name=f"Review of {pull_request}"[:200], type=Agent.Type.PR_REVIEWER,
                                       config=config)
        pull_request.reviewer = reviewer
        pull_request.save(update_fields=["reviewer", "updated_at"])
    else:
        reviewer = agents.agent_update(reviewer, {"config": config})
    agents.agent_start(reviewer, started_by=started_by)
    return pull_request


def _copy_from_github(pull_request: PullRequest) -> None:
    owner, repo = repository_of(pull_request.project)
    with answering_for_github():
        data = GitHub().pull_request(owner, repo, pull_request.number)
    pull_request.title = (data.get("title") or "")[:300]
    pull_request.description = data.get("body") or ""
    pull_request.base, pull_request.head = data["base"]["ref"], data["head"]["ref"]
    pull_request.state = (PullRequest.State.MERGED if data.get("merged_at")
                          else PullRequest.State.CLOSED if data.get("state") == "closed" else PullRequest.State.OPEN)
    pull_request.author = ((data.get("user") or {}).get("login") or "")[:100]
    for name in ("additions", "deletions", "changed_files"):
        setattr(pull_request, name, data.get(name))
    pull_request.synced_at = timezone.now()
