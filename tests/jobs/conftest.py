"""Fixtures of the job-engine tests: a real django-q2 worker cluster on the test database, tokens, sockets.

The cluster is one `manage.py qcluster` process for the whole session (starting one costs seconds); each test
that uses it asks for `workers`, which also gives it a transactional database, since a worker only sees
committed rows. Both processes share the tests' Redis: the broker the jobs travel on and the channel layer their
progress comes back on.
"""
import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from apps.jobs.models import Job
from tests.servers import ROOT

#: A running job whose heartbeat is older than this is taken to have lost its worker (worker and tests alike).
STALE_AFTER_SECONDS = 3


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "the condition"):
    """Poll `condition()` until it returns something truthy, and return that; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}.")


def job_in(job_id: int, *statuses: str) -> Job | None:
    """The job if it has reached one of `statuses` (for `wait_for`)."""
    return Job.objects.filter(pk=job_id, status__in=statuses).first()


def run_to_the_end(client, job_type: str, params: dict, *, timeout: float = 15) -> Job:
    """POST a job and wait for the workers to finish it; the job as it ended."""
    response = client.post("/api/v1/jobs/", {"type": job_type, "params": params}, format="json")
    assert response.status_code == 201, response.content
    return wait_for(lambda: job_in(response.json()["id"], *Job.FINISHED), timeout=timeout,
                    what=f"the {job_type} job to finish")


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture(autouse=True)
def handed_over(request, monkeypatch):
    """Job ids handed to django-q2. Outside tests that use `workers` they are recorded instead of sent: the
    session's worker cluster would otherwise take jobs that a test commits but means to run in-process."""
    calls = []
    if "workers" not in request.fixturenames:
        monkeypatch.setattr("apps.jobs.services.async_task", lambda func, job_id, **options: calls.append(job_id))
    return calls


class WorkerCluster:
    """`manage.py qcluster` on the test database and the tests' Redis."""

    def __init__(self, environment: dict):
        env = {**os.environ, "DEBUG": "false", "PYTHONPATH": str(ROOT), **environment}
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.workers = self._wait_until_up()

    def _wait_until_up(self) -> list[int]:
        from django_q.conf import Conf
        from django_q.status import Stat

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"qcluster exited: {self.process.stderr.read().decode()[-3000:]}")
            for stat in Stat.get_all():
                if stat.pid == self.process.pid and stat.status in (Conf.IDLE, Conf.WORKING) and stat.workers:
                    return stat.workers
            time.sleep(0.1)
        raise RuntimeError("qcluster did not start within 30 s")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def worker_cluster(django_db_setup, django_db_blocker):
    """One worker cluster for the session, stopped before the test database is dropped."""
    with django_db_blocker.unblock():
        database = connection.settings_dict
        if connection.vendor != "postgresql":
            pytest.skip("Workers share the test database only on PostgreSQL (set DATABASE_URL).")
        if not settings.REDIS_URL:
            pytest.skip("Workers and tests share a broker and a channel layer only through Redis (set REDIS_URL).")
        from django_q.brokers import get_broker

        get_broker().purge_queue()  # tasks left by an earlier run name jobs this database never had
        credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
        cluster = WorkerCluster({
            "DATABASE_URL": f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "JOB_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
            "JOB_WORKERS": "2",
        })
    yield cluster
    cluster.stop()


@pytest.fixture
def workers(worker_cluster, transactional_db, settings):
    """The running cluster, for a test whose rows are committed. No job of the test is left running after it,
    so the database can be emptied for the next test."""
    assert worker_cluster.alive(), "the worker cluster died"
    settings.TESSERA_JOBS = {**settings.TESSERA_JOBS, "STALE_AFTER_SECONDS": STALE_AFTER_SECONDS}
    yield worker_cluster
    Job.objects.filter(status__in=Job.ACTIVE).update(cancel_requested=True)
    wait_for(lambda: not Job.objects.filter(status=Job.Status.RUNNING).exists(), timeout=10,
             what="the test's jobs to stop")


class Socket:
    """A WebSocket client on the real ASGI application (channels' WebsocketCommunicator), driven from a sync
    test: its event loop runs in a thread of its own, so the test can make HTTP calls while it listens.

    The consumers accept before they decide, because a browser sees the close code only of an accepted socket;
    a refusal therefore arrives as a close with a code.
    """

    def __init__(self, path: str, *, token: str | None = None, query: str = "", headers: dict | None = None):
        params = "&".join(part for part in (f"token={token}" if token else "", query) if part)
        self.path = f"{path}?{params}" if params else path
        self.headers = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"socket {path}", daemon=True)
        self._thread.start()
        self._communicator = self._run(self._connect())

    async def _connect(self):
        from config.asgi import application

        communicator = WebsocketCommunicator(application, self.path, headers=self.headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        return communicator

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def receive(self, timeout: float = 5) -> dict:
        """The next JSON message; fails the test if none arrives within `timeout` s."""
        return self._run(self._communicator.receive_json_from(timeout=timeout))

    def nothing_received(self, wait: float = 0.5) -> bool:
        return self._run(self._communicator.receive_nothing(timeout=wait))

    def close_code(self, timeout: float = 5) -> int | None:
        """The code the server closed the socket with (None if it sent a message instead)."""
        output = self._run(self._communicator.receive_output(timeout))
        return output.get("code") if output["type"] == "websocket.close" else None

    def messages_until_finished(self, *, timeout: float = 15) -> list[dict]:
        """Every message up to and including the first `job.finished`."""
        received = []
        deadline = time.monotonic() + timeout
        while not received or received[-1]["type"] != "job.finished":
            received.append(self.receive(timeout=max(deadline - time.monotonic(), 0.01)))
        return received

    def close(self):
        try:
            self._run(self._communicator.disconnect())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
