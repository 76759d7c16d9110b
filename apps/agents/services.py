"""The agent lifecycle: create, start, cancel, delete, and what a run records. Views and jobs call these only.

A run is a job (`agents.run`); the agent row says where its latest run is (`pending -> running -> completed |
failed | cancelled`), the job holds its progress and log lines. The run ends with its job, however the job ended
(`agent_run_ended`, the job type's on_end), so an agent never stays running after its job stopped.

Lock order: a service that locks the run's job and the agent locks the job first, as a job's end does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.api import events
from apps.api.errors import Conflict, NotFound
from apps.jobs.progress import report as job_report
from apps.jobs.services import job_enqueue, job_lock, job_request_cancel

from . import events as watchers  # the agent's sockets (/ws/agents/, /ws/logs/)
from .configs import validated_config
from .models import Agent, Report
from .signals import run_finished

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.jobs.models import Job
    from apps.projects.models import Project
    from apps.tenants.models import Tenant


def agent_create(*, tenant: Tenant, owner: User, project: Project, name: str, type: str,
                 config: Any = None) -> Agent:
    return Agent.objects.create(tenant=tenant, owner=owner, project=project, name=name, type=type,
                                config=validated_config(type, config))


@transaction.atomic
def agent_update(agent: Agent, data: dict[str, Any]) -> Agent:
    """Rename, move to another project or reconfigure an agent that is not running; its config is validated
    against its (possibly new) type."""
    agent = _lock(agent)
    if agent.status in Agent.ACTIVE and agent.job_id is not None:
        raise Conflict("A queued or running agent cannot be changed; cancel it first.")
    for name, value in data.items():
        setattr(agent, name, value)
    if "type" in data or "config" in data:
        agent.config = validated_config(agent.type, agent.config)
    agent.save()
    return agent


@transaction.atomic
def agent_start(agent: Agent, *, started_by: User) -> Agent:
    """Queue a run. Two concurrent starts serialize on the row lock; the second is a 409."""
    agent = _lock(agent)
    if agent.job_id is not None and agent.status in Agent.ACTIVE:
        raise Conflict("This agent is already queued or running.")
    if not agent.project.enabled:
        raise Conflict("The project is disabled; enable it to start its agents.")
    agent.job = job_enqueue("agents.run", {"agent_id": agent.pk}, tenant=agent.tenant, created_by=started_by)
    agent.status, agent.result, agent.error, agent.started_at, agent.finished_at = (
        Agent.Status.PENDING, None, "", None, None)
    agent.save(update_fields=["job", "status", "result", "error", "started_at", "finished_at", "updated_at"])
    watchers.publish(agent)
    return agent


@transaction.atomic
def agent_cancel(agent: Agent, *, cancelled_by: User) -> Agent:
    """Stop a queued or running agent: a queued one never starts (its job ends cancelled now, and the agent with
    it), a running one stops within about a second (and ends cancelled when its job does)."""
    _lock_run_job(agent.pk)
    agent = _lock(agent)
    if agent.job is None or agent.status not in Agent.ACTIVE:
        raise Conflict(f"A {agent.get_status_display().lower()} agent cannot be cancelled.")
    job_request_cancel(agent.job, requested_by=cancelled_by)
    agent.refresh_from_db()
    return agent


@transaction.atomic
def agent_delete(agent: Agent) -> None:
    agent = _lock(agent)
    if agent.job_id is not None and agent.status in Agent.ACTIVE:
        raise Conflict("A queued or running agent cannot be deleted; cancel it first.")
    watchers.publish(agent)  # its watchers find it gone, and their sockets close
    agent.delete()


@transaction.atomic
def agent_begin(agent: Agent, *, job: Job) -> Agent:
    """The worker took the run: it is running from now (agents.running)."""
    agent.status, agent.started_at = Agent.Status.RUNNING, timezone.now()
    if Agent.objects.filter(pk=agent.pk, job=job).update(status=agent.status, started_at=agent.started_at,
                                                         updated_at=timezone.now()):
        events.emit(agent, agent.status)
        watchers.publish(agent)
    return agent


#: How an agent's run ends when its job ends.
RUN_OUTCOMES = {"succeeded": Agent.Status.COMPLETED, "failed": Agent.Status.FAILED,
                "cancelled": Agent.Status.CANCELLED}


def agent_run_ended(job: Job) -> None:
    """on_end of `agents.run`: the run's job ended, in this transaction, however it ended (the run returned or
    raised, was cancelled here or through /jobs/, its worker died and the reaper failed it, the queue lost it).
    The agent whose latest run it is ends with it: completed with the job's result, failed or cancelled with
    the job's reason. An outcome recorded already (an agent service's report) stands."""
    agent = Agent.objects.filter(job_id=job.pk).first()
    if agent is not None:
        succeeded = job.status == job.Status.SUCCEEDED
        agent_finish(agent, status=RUN_OUTCOMES[job.status], result=job.result if succeeded else None,
                     error="" if succeeded else job.error)


def agent_finish(agent: Agent, *, status: str, result: Any = None, error: str = "") -> None:
    """Record how the run ended, unless a newer run has replaced it or its outcome is recorded already, and tell
    the apps that listen (`signals.run_finished`)."""
    with transaction.atomic():
        recorded = Agent.objects.filter(pk=agent.pk, job_id=agent.job_id, status__in=Agent.ACTIVE).update(
            status=status, result=result, error=error[:2000], finished_at=timezone.now(), updated_at=timezone.now())
        if recorded:
            agent.refresh_from_db()
            events.emit(agent, status)  # agents.completed, .failed or .cancelled, with the run's result
    if recorded:
        agent.status, agent.error = status, error[:2000]
        watchers.publish(agent)
        run_finished.send(sender=Agent, agent=agent, status=status, result=result)


@transaction.atomic
def agent_report(agent_id: int, *, reporter: User, progress: float | None = None, step: str | None = None,
                 message: str | None = None, level: str = "info", status: str | None = None,
                 result: Any = None, error: str = "") -> Agent:
    """The agent service reports on a run handed to it: progress and a log line, and at the end its outcome.
    Any other run is a 404 to it, as is a run that has finished."""
    _lock_run_job(agent_id)
    agent = Agent.objects.select_for_update(of=("self",)).select_related("job").filter(
        pk=agent_id, delegated_to=reporter, status=Agent.Status.RUNNING).first()
    if agent is None or agent.job is None:
        raise NotFound("No running agent run of yours has this id.")
    job_report(agent.job, percent=progress, step=step, message=message, level=level)
    if status is not None:
        agent_finish(agent, status=status, result=result, error=error)
        agent.refresh_from_db()
    return agent


def report_store(agent: Agent, *, kind: str, quality_score: float, body: dict[str, Any]) -> Report:
    return Report.objects.create(tenant=agent.tenant, project=agent.project, agent=agent, kind=kind,
                                 quality_score=quality_score, body=body)


def _lock(agent: Agent) -> Agent:
    return Agent.objects.select_for_update(of=("self",)).select_related("project", "job").get(pk=agent.pk)


def _lock_run_job(agent_id: int) -> None:
    """Lock the agent's latest run's job, before the agent itself (the module's lock order)."""
    job_lock(Agent.objects.filter(pk=agent_id).values_list("job_id", flat=True).first())
