"""Background work contributed by the agents app: one run of an agent.

The job engine brings progress, log lines, cancellation (a cancel stops the tools within about a second),
timeouts, retries after a lost worker and the tenant's job limits; however the job ends, its on_end records the
run's outcome on the agent, in the same transaction.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps import jobs

from . import services
from .models import Agent
from .runs import RUNNERS

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class RunParams(serializers.Serializer):
    agent_id = serializers.IntegerField()


@jobs.register("agents.run", params=RunParams, public=False, timeout=1800, max_attempts=2,
               on_end=services.agent_run_ended)
def run_agent(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run the agent's type on its project; the job's outcome becomes the agent's (services.agent_run_ended)."""
    agent = services.agent_begin(Agent.objects.select_related("project", "tenant").get(pk=params["agent_id"]),
                                 job=progress.job)
    return RUNNERS[agent.type](agent, progress)
