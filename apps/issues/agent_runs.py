"""How issues take part in issue_resolver runs: what the agent service is told about the issue, and what the
run's outcome does to it."""
from typing import Any

from apps.agents.delegation import RunFailed, provide_context
from apps.agents.models import Agent

from . import services
from .models import Issue


@provide_context(Agent.Type.ISSUE_RESOLVER)
def issue_context(agent: Agent) -> dict[str, Any]:
    issue = Issue.objects.filter(pk=agent.config["issue"], project_id=agent.project_id).first()
    if issue is None:
        raise RunFailed("The issue to resolve is not an issue of the agent's project.")
    return {"issue": {"id": issue.pk, "title": issue.title, "description": issue.description,
                      "priority": issue.priority, "labels": issue.labels, "github_number": issue.github_number}}


def follow_run(sender: type, *, agent: Agent, status: str, result: Any, **kwargs: Any) -> None:
    services.issue_follow_run(agent=agent, status=status, result=result)
