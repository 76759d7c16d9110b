"""Runs that an external agent service does: issue_resolver and custom agents.

The worker POSTs the run to TESSERA_AGENTS["SERVICE_URL"] with a bearer secret, hands the run to the service's
account (role `agent`), then waits: the service reports progress, log lines and the outcome through
POST /api/v1/agent-runs/{agent}/report with that account's API key. Waiting goes through the job's checkpoint,
so a cancel stops the run within about a second; the service learns it when its next report is a 404.

Apps above agents add to what the service is told with `provide_context` (the issues app adds the issue).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.jobs.progress import RetryableError

from .conf import agents_settings
from .models import Agent

if TYPE_CHECKING:
    from apps.jobs.progress import Progress

POLL_SECONDS = 0.25
#: agent type -> fn(agent) giving more of what the service is told about the run.
CONTEXT_PROVIDERS: dict[str, Callable[[Agent], dict[str, Any]]] = {}


class RunFailed(Exception):
    """The service reported the run failed; its message is the service's `error`."""


def provide_context(agent_type: str) -> Callable:
    def decorator(function: Callable[[Agent], dict[str, Any]]) -> Callable[[Agent], dict[str, Any]]:
        CONTEXT_PROVIDERS[agent_type] = function
        return function
    return decorator


def service_account():
    account = get_user_model().objects.filter(email__iexact=agents_settings.SERVICE_ACCOUNT, is_active=True,
                                              role="agent").first()
    if account is None:
        raise RunFailed("The agent service's account is missing, inactive or not of the agent role.")
    return account


def delegate(agent: Agent, progress: Progress) -> dict[str, Any]:
    """Hand the run to the agent service and wait for it to report its outcome."""
    Agent.objects.filter(pk=agent.pk).update(delegated_to=service_account())
    progress(5, step="delegate", message="Handing the run to the agent service.")
    _post(run_payload(agent, job_id=progress.job.pk))
    progress(10, step="running", message="The agent service accepted the run.")
    while True:
        progress.raise_if_stopped()
        finished = Agent.objects.filter(pk=agent.pk).exclude(status__in=Agent.ACTIVE).values_list(
            "status", "result", "error").first()
        if finished is not None:
            status, result, error = finished
            if status != Agent.Status.COMPLETED:
                raise RunFailed(error or "The agent service reported a failure.")
            return result if result is not None else {}
        time.sleep(POLL_SECONDS)


def run_payload(agent: Agent, *, job_id: int) -> dict[str, Any]:
    project = agent.project
    report_path = reverse("agent-run-report", kwargs={"agent_id": agent.pk})
    base = agents_settings.CALLBACK_BASE_URL.rstrip("/")
    provider = CONTEXT_PROVIDERS.get(agent.type)
    return {
        "run": {"agent": agent.pk, "job": job_id, "type": agent.type, "name": agent.name, "config": agent.config,
                "context": provider(agent) if provider else {}},
        "project": {"id": project.pk, "name": project.name, "repository_url": project.repository_url,
                    "default_branch": project.default_branch},
        "tenant": agent.tenant_id,
        "report_path": report_path,
        "report_url": f"{base}{report_path}" if base else None,
    }


def _post(payload: dict[str, Any]) -> None:
    try:
        response = httpx.post(agents_settings.SERVICE_URL, json=payload, timeout=agents_settings.SERVICE_TIMEOUT,
                              headers={"Authorization": f"Bearer {agents_settings.SERVICE_SECRET}"})
    except httpx.HTTPError:
        raise RetryableError("The agent service could not be reached.") from None
    if response.status_code >= 500:
        raise RetryableError(f"The agent service answered {response.status_code}.")
    if response.status_code >= 300:
        raise RunFailed(f"The agent service refused the run ({response.status_code}).")
