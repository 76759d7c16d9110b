"""/ws/agents/{id}/ and /ws/logs/{id}/: an agent's status and progress, and its run's log lines, live, for whoever
may see the agent over HTTP and nobody else. Runs are real: a worker cluster analyses a git repository made here.

Socket tests commit their rows (`transactional_db`): consumers read the database from a thread of their own."""
import time

import pytest

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.agents.models import Agent
from apps.jobs import events as job_events
from apps.jobs.models import Job, JobLog
from tests.jobs.conftest import Socket, access_token
from tests.repositories import make_git_repository

from .test_agent_runs import CLEAN, PLANTED_LINT, create_project

pytestmark = pytest.mark.usefixtures("transactional_db")

NOT_AUTHENTICATED, NOT_FOUND = 4401, 4404
PATHS = ["/ws/agents/{}/", "/ws/logs/{}/"]


def messages_until(socket: Socket, done, *, timeout: float = 60) -> list[dict]:
    """Every message up to and including the first for which `done(message)` holds."""
    received = []
    deadline = time.monotonic() + timeout
    while not received or not done(received[-1]):
        received.append(socket.receive(timeout=max(deadline - time.monotonic(), 0.01)))
    return received


@pytest.fixture
def analyzer_of_a_repository(user_client, repository_root) -> dict:
    path = make_git_repository(repository_root / "widgets", {"clean.py": CLEAN, "greet.py": PLANTED_LINT})
    response = user_client.post("/api/v1/agents/", {"project": create_project(user_client, path), "name": "Lint",
                                                    "type": "code_analyzer"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_code_analyzer_run_is_followed_to_completed_and_the_next_run_too(workers, user, user_client,
                                                                           analyzer_of_a_repository):
    agent_id = analyzer_of_a_repository["id"]

    with Socket(f"/ws/agents/{agent_id}/", token=access_token(user)) as socket:
        first = socket.receive()
        user_client.post(f"/api/v1/agents/{agent_id}/start/")
        run = messages_until(socket, lambda message: message["type"] == "agent.finished")
        user_client.post(f"/api/v1/agents/{agent_id}/start/")
        next_run = messages_until(socket, lambda message: message["type"] == "agent.finished")

    assert first == {"type": "agent.progress", "agent_id": agent_id, "status": "pending", "job_id": None,
                     "progress": 0, "step": "", "message": "", "error": ""}
    (run_job,), (next_job,) = ({message["job_id"] for message in messages} for messages in (run, next_run))
    assert run_job != next_job == user_client.get(f"/api/v1/agents/{agent_id}/").json()["job"]
    for messages in (run, next_run):
        statuses = [message["status"] for message in messages]
        # The first is what the socket reads once the run is queued: pending, or running if a worker was quicker.
        assert statuses[-1] == "completed" and "running" in statuses
        assert statuses == sorted(statuses, key=["pending", "running", "completed"].index)
        progress = [message["progress"] for message in messages]
        assert progress == sorted(progress) and progress[-1] == 100
        assert {"fetch", "lint", "complexity", "done"} <= {message["step"] for message in messages}
        assert messages[-1]["message"].startswith("Quality score")


def test_log_lines_arrive_on_the_logs_socket_as_they_are_written(workers, user, user_client,
                                                                 analyzer_of_a_repository):
    agent_id = analyzer_of_a_repository["id"]

    with Socket(f"/ws/logs/{agent_id}/", token=access_token(user)) as socket:
        assert socket.nothing_received(wait=0.2)  # never run: no lines yet
        user_client.post(f"/api/v1/agents/{agent_id}/start/")
        lines = messages_until(socket, lambda line: line["message"].startswith("Quality score"))

    logs = user_client.get(f"/api/v1/agents/{agent_id}/logs/").json()
    assert [line["type"] for line in lines] == ["log.line"] * len(lines)
    assert [(line["timestamp"], line["level"], line["step"], line["message"], line["progress"]) for line in lines] == [
        (log["timestamp"], log["level"], log["step"], log["message"], log["progress"]) for log in logs]
    assert [line["step"] for line in lines] == ["fetch", "count", "lint", "complexity", "done"]


def test_the_logs_socket_starts_with_the_lines_the_run_wrote_so_far(workers, user, user_client,
                                                                   analyzer_of_a_repository):
    agent_id = analyzer_of_a_repository["id"]
    with Socket(f"/ws/agents/{agent_id}/", token=access_token(user)) as watcher:
        watcher.receive()
        user_client.post(f"/api/v1/agents/{agent_id}/start/")
        messages_until(watcher, lambda message: message["type"] == "agent.finished")

    with Socket(f"/ws/logs/{agent_id}/", token=access_token(user)) as socket:
        lines = messages_until(socket, lambda line: line["step"] == "done", timeout=5)
        nothing_more = socket.nothing_received()

    assert [line["message"] for line in lines] == [
        log["message"] for log in user_client.get(f"/api/v1/agents/{agent_id}/logs/").json()]
    assert nothing_more


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("persona, expected_code", [
    ("anonymous", NOT_AUTHENTICATED),
    ("second_user", NOT_FOUND),  # same tenant, not the owner
    ("other_user", NOT_FOUND),  # another tenant
])
def test_only_the_owner_may_watch_an_agent(request, analyzer, path, persona, expected_code):
    credentials = {} if persona == "anonymous" else {"token": access_token(request.getfixturevalue(persona))}

    with Socket(path.format(analyzer.pk), **credentials) as socket:
        code = socket.close_code()

    assert code == expected_code


@pytest.mark.parametrize("path", PATHS)
def test_another_tenants_agent_is_not_found(user, other_tenant_agent, path):
    with Socket(path.format(other_tenant_agent.pk), token=access_token(user)) as socket:
        code = socket.close_code()

    assert code == NOT_FOUND


@pytest.mark.parametrize("path", PATHS)
def test_an_api_key_without_agents_read_may_not_watch(user, analyzer, path):
    key = api_key_create(user=user, name="jobs only", scopes=["jobs:read"], allowed=role_scopes(user.role))

    with Socket(path.format(analyzer.pk), headers={"X-API-Key": key.secret}) as socket:
        code = socket.close_code()

    assert code == NOT_FOUND


def test_a_ticket_lets_the_owner_watch_their_agent(user_client, analyzer):
    ticket = user_client.post("/api/v1/auth/ws-ticket").json()["ticket"]

    with Socket(f"/ws/agents/{analyzer.pk}/", query=f"ticket={ticket}") as socket:
        message = socket.receive()

    assert (message["agent_id"], message["status"]) == (analyzer.pk, "pending")


@pytest.fixture
def embedded_channel_layer(settings):
    """The embedded default's layer, which lives in one process: workers' events cannot reach it."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_on_the_embedded_default_the_sockets_read_the_tables_instead(embedded_channel_layer, user, tenant, analyzer):
    with Socket(f"/ws/agents/{analyzer.pk}/", token=access_token(user)) as agents, \
            Socket(f"/ws/logs/{analyzer.pk}/", token=access_token(user)) as logs:
        agents.receive()
        job = Job.objects.create(tenant=tenant, created_by=user, type="agents.run", status="running", progress=30,
                                 step="lint", message="Linting with ruff.")
        Agent.objects.filter(pk=analyzer.pk).update(job=job, status="running")
        JobLog.objects.create(job=job, progress=30, step="lint", message="Linting with ruff.")
        status = agents.receive(timeout=3)
        line = logs.receive(timeout=3)

    assert (status["type"], status["status"], status["job_id"], status["progress"], status["step"]) == (
        "agent.progress", "running", job.pk, 30, "lint")
    assert (line["type"], line["job_id"], line["message"]) == ("log.line", job.pk, "Linting with ruff.")


@pytest.mark.parametrize("path", PATHS)
def test_deleting_the_agent_closes_its_sockets_as_not_found(user, user_client, analyzer, path):
    with Socket(path.format(analyzer.pk), token=access_token(user)) as socket:
        if path.startswith("/ws/agents/"):
            socket.receive()
        assert user_client.delete(f"/api/v1/agents/{analyzer.pk}/").status_code == 204
        code = socket.close_code()

    assert code == NOT_FOUND


def test_a_line_whose_message_comes_before_an_earlier_lines_is_sent_after_that_line(user, tenant, analyzer):
    """The worker and the API (an agent service's reports) each send the lines they write as they go, so the message
    of a later line can arrive first: the logs socket reads the lines in between, and sends the log in its order."""
    job = Job.objects.create(tenant=tenant, created_by=user, type="agents.run", status="running")
    Agent.objects.filter(pk=analyzer.pk).update(job=job, status="running")

    with Socket(f"/ws/logs/{analyzer.pk}/", token=access_token(user)) as logs:
        time.sleep(0.2)  # the socket follows the run's log before anything is written
        accepted = JobLog.objects.create(job=job, message="The agent service accepted the run.")
        read = JobLog.objects.create(job=job, message="Read the issue.")
        for line in (read, accepted):  # the later line's message first
            job_events.publish_soon(job, line=line)
        received = [logs.receive()["message"] for _ in range(2)]
        nothing_else = logs.nothing_received()

    assert received == ["The agent service accepted the run.", "Read the issue."]
    assert nothing_else
