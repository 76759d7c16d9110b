"""Background work contributed by the agents app: one run of an agent.

The job engine brings progress, log lines, cancellation (a cancel stops the tools within about a second),
timeouts, retries after a lost worker and the tenant's job limits; this records the run on the agent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps import jobs
from apps.jobs.progress import JobCancelled

from . import services
from .models import Agent
from .runs import RUNNERS

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class RunParams(serializers.Serializer):
    agent_id = serializers.IntegerField()


@jobs.register("agents.run", params=RunParams, public=False, timeout=1800, max_attempts=2)
def run_agent(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run the agent's type on its project and record the outcome on the agent."""
    agent = services.agent_begin(Agent.objects.select_related("project", "tenant").get(pk=params["agent_id"]),
                                 job=progress.job)
    try:
        result = RUNNERS[agent.type](agent, progress)
    except JobCancelled:
        services.agent_finish(agent, status=Agent.Status.CANCELLED, error="Cancelled on request.")
        raise
    except Exception as error:
        services.agent_finish(agent, status=Agent.Status.FAILED, error=str(error))
        raise
    services.agent_finish(agent, status=Agent.Status.COMPLETED, result=result)
    return result
