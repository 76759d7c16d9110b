"""An agent's run ends with its job, however the job ended: its worker killed and the job reaped, cancelled through
the agent or through /jobs/, or never taken by the queue. No agent stays `pending` or `running` after its job."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.models import Agent
from apps.events.models import Event
from apps.jobs.models import Job
from apps.jobs.services import jobs_reap_stale
from tests.jobs.test_queue_outage import broker_down  # noqa: F401 (a fixture)
from tests.jobs.test_worker_crash import kill_the_worker_running
from tests.repositories import make_git_repository
from tests.workers import wait_for

from .test_agent_runs import OLD_SECURITY_ISSUE, create_project


def agent_read(client, agent_id) -> dict:
    return client.get(f"/api/v1/agents/{agent_id}/").json()


def started(client, agent_id) -> Job:
    assert client.post(f"/api/v1/agents/{agent_id}/start/").status_code == 202
    return Agent.objects.get(pk=agent_id).job


def test_a_run_whose_worker_died_ends_failed_with_the_reason_when_the_reaper_fails_its_job(
        workers, user_client, repository_root):
    path = make_git_repository(repository_root / "big", {f"module_{i}.py": OLD_SECURITY_ISSUE * 20
                                                         for i in range(400)})
    agent = user_client.post("/api/v1/agents/", {"project": create_project(user_client, path), "name": "Slow",
                                                 "type": "code_analyzer", "config": {"security": True}},
                             format="json").json()
    job = started(user_client, agent["id"])
    wait_for(lambda: Agent.objects.filter(pk=agent["id"], status="running").exists(), timeout=30,
             what="the agent to run")
    Job.objects.filter(pk=job.pk).update(max_attempts=1)  # its last attempt: the reaper fails it
    kill_the_worker_running(job.pk)
    assert agent_read(user_client, agent["id"])["status"] == "running"  # nobody is left to say otherwise

    jobs_reap_stale()

    read = agent_read(user_client, agent["id"])
    assert Job.objects.get(pk=job.pk).status == "failed"
    assert read["status"] == "failed"
    assert "worker stopped responding" in read["error"]
    assert read["finished_at"] is not None
    assert Event.objects.filter(type="agents.failed", data__id=agent["id"]).exists()


def test_a_queued_run_cancelled_through_the_jobs_api_ends_the_agent_cancelled(user_client, analyzer):
    job = started(user_client, analyzer.id)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    read = agent_read(user_client, analyzer.id)
    assert (read["status"], read["error"]) == ("cancelled", "Cancelled before it started.")


def test_a_run_asked_to_stop_whose_worker_died_ends_cancelled_when_reaped(user_client, analyzer):
    job = started(user_client, analyzer.id)
    # A worker took the run, was asked to stop, and died before it could.
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, cancel_requested=True,
                                         heartbeat_at=timezone.now() - timedelta(minutes=5))
    Agent.objects.filter(pk=analyzer.pk).update(status="running")

    jobs_reap_stale()

    read = agent_read(user_client, analyzer.id)
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert read["status"] == "cancelled"
    assert "worker stopped responding" in read["error"]


def test_a_run_that_has_attempts_left_stays_running_when_its_dead_worker_is_reaped(user_client, analyzer):
    job = started(user_client, analyzer.id)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, max_attempts=2,
                                         heartbeat_at=timezone.now() - timedelta(minutes=5))
    Agent.objects.filter(pk=analyzer.pk).update(status="running")

    jobs_reap_stale()

    assert Job.objects.get(pk=job.pk).status == "queued"  # another worker takes it
    assert agent_read(user_client, analyzer.id)["status"] == "running"


@pytest.mark.django_db(transaction=True)
def test_a_run_the_queue_cannot_take_is_a_503_and_the_agent_ends_failed(broker_down, user_client,  # noqa: F811
                                                                        analyzer):
    response = user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    assert response.status_code == 503
    read = agent_read(user_client, analyzer.id)
    assert read["status"] == "failed"
    assert "job queue" in read["error"]
