"""Live agent messages (/ws/agents/{id}/) over the job engine's channel layer: the agent's status as its runs
move, beside the run's own progress, which the job engine sends to the job's group."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.jobs import events as job_events

from .models import Agent

PROGRESS = "agent.progress"
FINISHED = "agent.finished"


def agent_group(agent_id: int) -> str:
    """Everyone watching one agent: its status changes and the start of each new run."""
    return f"agent-{agent_id}"


#: What changes on the agent row itself (the run's progress is the job's).
CHANGE_FIELDS = ("agent_id", "status", "job_id", "error")


def agent_change(agent: Agent) -> dict[str, Any]:
    return {"agent_id": agent.pk, "status": agent.status, "job_id": agent.job_id, "error": agent.error}


def agent_message(change: dict[str, Any], run: dict[str, Any] | None) -> dict[str, Any]:
    """The message of /ws/agents/{id}/: the agent's status (`agent.finished` once its run ended) and its latest
    run's job, progress, step and latest message (`run`: the job's event, None before the first run)."""
    run = run or {"progress": 0, "step": "", "message": ""}
    return {"type": PROGRESS if change["status"] in Agent.ACTIVE else FINISHED, **change,
            "progress": run["progress"], "step": run["step"], "message": run["message"]}


def agent_snapshot(agent: Agent) -> dict[str, Any]:
    """The message of the agent as it is now (its `job` fetched with it)."""
    return agent_message(agent_change(agent), job_events.job_event(agent.job) if agent.job else None)


def publish(agent: Agent) -> None:
    """Tell the agent's watchers its status or run changed, once the change is committed (as it is now: a deleted
    agent has no id by then)."""
    deliveries, what = {agent_group(agent.pk): agent_change(agent)}, f"agent {agent.pk}'s status"
    transaction.on_commit(lambda: job_events.send_soon(deliveries, what=what, handler="agent.event"))
