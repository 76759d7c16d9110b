"""A real django-q2 worker cluster on the test database, shared by every test folder that needs workers.

The cluster is one `manage.py qcluster` process for the whole session (starting one costs seconds); each test
that uses it asks for `workers`, which also gives it a transactional database, since a worker only sees
committed rows. Both processes share the tests' Redis: the broker the jobs travel on and the channel layer their
progress comes back on. There is one cluster per session, whichever folders ask for it: two would take each
other's jobs off the same queue (which is what tests/test_scale_out.py starts a second one for, and only there).

Migration jobs run in the cluster too, so it is confined to the session's temporary directory
(`MIGRATION_ALLOWED_ROOTS`), where every test's `tmp_path` lies, and keeps its backups there.
"""
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import TransactionTestCase

from apps.events.models import Event
from apps.jobs.models import Job
from tests.servers import ROOT, free_port

#: Where the worker cluster sends issue_resolver and custom runs (tests/agents/agent_service.py listens there).
AGENT_SERVICE = {"SERVICE_URL": f"http://127.0.0.1:{free_port()}/runs", "SERVICE_SECRET": "agent-service-secret",
                 "SERVICE_ACCOUNT": "agent-service@example.com"}
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


class WorkerCluster:
    """`manage.py qcluster` on the test database and the tests' Redis. Its stderr (the workers' log) goes to
    `log_path`, never to an undrained pipe that would block the workers once full."""

    def __init__(self, environment: dict, *, log_path):
        env = {**os.environ, "DEBUG": "false", "PYTHONPATH": str(ROOT), **environment}
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.workers = self._wait_until_up()

    def output(self) -> str:
        """Everything the cluster has written so far (its workers' log lines included)."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def _wait_until_up(self) -> list[int]:
        from django_q.conf import Conf
        from django_q.status import Stat

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"qcluster exited: {self.output()[-3000:]}")
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
        self._log.close()


def subprocess_database_url() -> str:
    """DATABASE_URL of the test database, for the processes a test starts."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def scaled_out_environment(**extra: str) -> dict:
    """The environment of servers that act as one deployment with this run (its test database and its Redis),
    with `extra`; the test is skipped where either is missing, as processes share state only through them."""
    if connection.vendor != "postgresql":
        pytest.skip("Server processes share the database only on PostgreSQL (set DATABASE_URL).")
    if not settings.REDIS_URL:
        pytest.skip("Server processes share counters, caches and channel groups only through Redis (set REDIS_URL).")
    return {"DATABASE_URL": subprocess_database_url(), "REDIS_URL": settings.REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY, **extra}


def cluster_environment(migration_root) -> dict:
    """What a worker cluster of the tests runs with: the test database, the tests' Redis, and migrations confined
    to `migration_root`."""
    return {
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "JOB_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
        "JOB_WORKERS": "2",
        "MIGRATION_ALLOWED_ROOTS": str(migration_root),
        "MIGRATION_ALLOWED_DB_HOSTS": "127.0.0.1:5432,127.0.0.1:3306",
        "MIGRATION_ALLOW_PASSWORDLESS": "127.0.0.1:5432,127.0.0.1:3306",
        "MIGRATION_BACKUP_ROOT": str(migration_root / "worker-backups"),
        "PROJECT_REPOSITORY_ROOTS": str(migration_root),
        **{f"AGENT_{name}": value for name, value in AGENT_SERVICE.items()},
        # Webhook deliveries go to receivers the tests serve on this machine (tests/webhooks/conftest.py).
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "WEBHOOK_DISABLE_AFTER_FAILURES": "3",
    }


@pytest.fixture(autouse=True)
def handed_over(request, monkeypatch):
    """Job ids handed to django-q2. Outside tests that use `workers` they are recorded instead of sent: the
    session's worker cluster would otherwise take jobs that a test commits but means to run in-process."""
    calls = []
    if "workers" not in request.fixturenames:
        monkeypatch.setattr("apps.jobs.services.queue_task", lambda func, job_id, **options: calls.append(job_id))
        # Relays of committed change events are not sent either (apps/events/handoff.py): their events stay pending.
        monkeypatch.setattr("apps.events.handoff.queue_unless_waiting", lambda func, **options: False)
    return calls


@pytest.fixture(scope="session")
def migration_root(tmp_path_factory):
    """The directory the worker cluster's migrations are confined to: the session's base temporary directory,
    so every test's `tmp_path` lies inside it."""
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session")
def worker_cluster(django_db_setup, django_db_blocker, migration_root):
    """One worker cluster for the session, stopped before the test database is dropped."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("Workers share the test database only on PostgreSQL (set DATABASE_URL).")
        if not settings.REDIS_URL:
            pytest.skip("Workers and tests share a broker and a channel layer only through Redis (set REDIS_URL).")
        from django_q.brokers import get_broker

        get_broker().purge_queue()  # tasks left by an earlier run name jobs this database never had
        cluster = WorkerCluster(cluster_environment(migration_root), log_path=migration_root / "worker-cluster.log")
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
    # The jobs' change events are relayed after they end; a relay still writing when the database is emptied
    # would deadlock with the flush. A test may leave events unrelayed on purpose (a killed relay), so this waits
    # a while and then goes on: the flush below retries a deadlock anyway.
    deadline = time.monotonic() + 5
    while Event.objects.filter(relayed_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


_flush = TransactionTestCase._fixture_teardown


def _flush_retrying_deadlocks(self, attempts: int = 3):
    """Empty the database after a transactional test, again if PostgreSQL picked the flush as a deadlock's victim.

    The session's worker cluster runs the django-q2 schedules (reaper, event and delivery sweeps) whenever they
    are due, in the middle of any test: one that holds a row lock while the flush truncates its table is a
    deadlock PostgreSQL ends by aborting one side, and the flush is as good as new when run again.
    """
    for attempt in range(attempts):
        try:
            return _flush(self)
        except OperationalError as error:
            if "deadlock detected" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session", autouse=True)
def flush_retrying_deadlocks():
    """Every transactional test's flush retries a deadlock with the worker cluster's schedules."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", _flush_retrying_deadlocks)
        yield
