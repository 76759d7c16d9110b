"""`make serve` serves the docs, the API and a job's WebSocket at one origin, and nginx decides who is calling.

The stack runs as `make serve` starts it, `python -m config.serve.production` (migrate and collectstatic, then nginx
in front of granian for HTTP and uvicorn for WebSockets, and a django-q2 cluster), on a free port, on the test
database and the tests' Redis. Every request below goes to nginx's one address, as a browser's would.
"""
import json
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.audit.models import AuditLog
from apps.jobs.models import Job
from apps.tasks.models import Task
from config.serve.production import Ended, Processes, nginx_executable, production_environment
from tests.conftest import PASSWORD
from tests.servers import ROOT, ServerProcess
from tests.workers import subprocess_database_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

#: API_ANON_THROTTLE of the stack: per day, so the run cannot straddle the end of a counting window.
ANONYMOUS_LIMIT = 5
NOT_A_MEMBER = 4403  # the close code of a socket asking for a tenant its caller is no member of


@pytest.fixture(scope="module")
def stack(django_db_setup):
    """`make serve`'s processes, started once for the module."""
    if not nginx_executable() and not os.environ.get("TESSERA_REQUIRE_SERVICES"):
        pytest.skip("nginx is not installed (`make serve` installs Debian's package; CI requires it).")
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("The stack's processes share state only through PostgreSQL and Redis.")
    server = ServerProcess({"DATABASE_URL": subprocess_database_url(), "REDIS_URL": settings.REDIS_URL,
                            "SECRET_KEY": settings.SECRET_KEY, "API_ANON_THROTTLE": f"{ANONYMOUS_LIMIT}/d"},
                           module="config.serve.production", options=("--host", "127.0.0.1", "--workers", "2"),
                           start_timeout=180, stop_timeout=60)
    yield server
    server.stop()
    server.remove_log()


def call(stack, method: str, path: str, body: dict | None = None, **headers) -> tuple[int, dict]:
    status, _, raw = stack.request(method, path, body=json.dumps(body).encode() if body else None,
                                   headers={"Content-Type": "application/json", **headers})
    return status, json.loads(raw) if raw else {}


def signed_in(stack, user, tenant) -> dict:
    """Headers of `user` in `tenant`, with an access token from the stack's own sign-in."""
    status, pair = call(stack, "POST", "/api/v1/auth/token", {"email": user.email, "password": PASSWORD})
    assert status == 200, pair
    return {"Authorization": f"Bearer {pair['access']}", "X-Tenant-ID": str(tenant.pk)}


def test_the_api_docs_page_is_served(stack):
    status, headers, body = stack.request("GET", "/api/docs/")

    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in body
    assert headers["Server"] == "nginx"  # nginx answered, as it does for every request


def test_a_signed_in_user_lists_the_tenants_tasks(stack, user, tenant):
    task = Task.objects.create(tenant=tenant, user=user, title="Served by make serve")

    status, page = call(stack, "GET", "/api/v1/tasks/", **signed_in(stack, user, tenant))

    assert status == 200, page
    assert [(row["id"], row["title"]) for row in page["results"]] == [(task.pk, task.title)]


def test_a_jobs_websocket_at_the_same_origin_follows_the_job_to_its_end(stack, user, tenant):
    headers = signed_in(stack, user, tenant)
    status, job = call(stack, "POST", "/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 1, "steps": 2}},
                       **headers)
    assert status == 201, job
    status, ticket = call(stack, "POST", "/api/v1/auth/ws-ticket", **headers)
    assert status == 201, ticket

    with connect(f"ws://127.0.0.1:{stack.port}/ws/jobs/{job['id']}/?ticket={ticket['ticket']}",
                 open_timeout=10) as socket:
        messages = [json.loads(socket.recv(timeout=30))]
        while messages[-1]["status"] not in Job.FINISHED:
            messages.append(json.loads(socket.recv(timeout=30)))

    assert {message["job_id"] for message in messages} == {job["id"]}
    assert messages[-1]["status"] == Job.Status.SUCCEEDED  # the stack's worker cluster (or the session's) ran it
    assert ticket["ticket"] not in stack.log()


def test_a_socket_opened_with_the_bearer_subprotocol_is_answered_with_it(stack, user, tenant):
    job = Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.RUNNING)
    access = signed_in(stack, user, tenant)["Authorization"].removeprefix("Bearer ")

    with connect(f"ws://127.0.0.1:{stack.port}/ws/jobs/{job.pk}/", open_timeout=10,
                 subprotocols=["tessera.bearer", access]) as socket:
        message = json.loads(socket.recv(timeout=10))

    assert (socket.subprotocol, message["job_id"], message["status"]) == ("tessera.bearer", job.pk, "running")


def test_the_audit_log_records_the_address_nginx_received_not_the_one_the_client_claimed(stack):
    call(stack, "POST", "/api/v1/auth/token", {"email": "guess@example.com", "password": "not-the-password"},
         **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})

    assert list(AuditLog.objects.values_list("ip", flat=True)) == ["127.0.0.1"]


def test_a_socket_knocking_on_another_tenant_is_audited_with_the_address_nginx_received(stack, user, other_tenant):
    access = signed_in(stack, user, other_tenant)["Authorization"].removeprefix("Bearer ")

    with connect(f"ws://127.0.0.1:{stack.port}/ws/jobs/?tenant={other_tenant.pk}", open_timeout=10,
                 subprotocols=["tessera.bearer", access], additional_headers={"X-Forwarded-For": "6.6.6.6"}) as socket:
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)

    assert socket.close_code == NOT_A_MEMBER
    assert list(AuditLog.objects.filter(event=AuditLog.Event.CROSS_TENANT_ATTEMPT).values_list("ip", flat=True)) == [
        "127.0.0.1"]


def test_anonymous_requests_claiming_other_addresses_share_one_rate_limit_bucket(stack):
    statuses = [call(stack, "GET", "/api/v1/auth/me", **{"X-Forwarded-For": f"198.51.100.{number}"})[0]
                for number in range(ANONYMOUS_LIMIT + 1)]

    assert statuses == [401] * ANONYMOUS_LIMIT + [429]


def test_when_one_process_ends_serving_ends_with_its_status_and_the_others_are_stopped():
    processes = Processes(dict(os.environ))
    processes.start("server", [sys.executable, "-c", "import time; time.sleep(60)"])
    processes.start("worker", [sys.executable, "-c", "raise SystemExit(3)"])

    with pytest.raises(Ended) as ended:
        processes.watch()
    processes.stop()

    assert (ended.value.status, str(ended.value)) == (3, "worker exited with status 3")
    assert processes.running["server"].returncode == -signal.SIGTERM


def test_nginx_error_lines_lose_their_query_strings_before_they_are_written(capfd):
    line = 'connect() failed, request: "GET /ws/jobs/7/?ticket=SECRET-TICKET HTTP/1.1", host: "localhost"'
    processes = Processes(dict(os.environ))
    processes.start("nginx", [sys.executable, "-c", f"import sys; sys.stderr.write({line!r} + '\\n')"],
                    filter_stderr=True)
    processes.running["nginx"].wait()

    written = wait_for(lambda: capfd.readouterr().err, timeout=10, what="the relayed line")

    assert written == 'connect() failed, request: "GET /ws/jobs/7/ HTTP/1.1", host: "localhost"\n'


def test_serving_without_a_secret_key_is_refused_with_what_to_do(monkeypatch):
    if (ROOT / ".env").exists():
        pytest.skip(".env holds a SECRET_KEY here (make run writes one), which make serve would take.")
    monkeypatch.delenv("SECRET_KEY")

    done = subprocess.run([sys.executable, "-m", "config.serve.production"], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr and "in the environment or in .env" in done.stderr


def test_serving_behind_nginx_without_trusting_it_is_refused(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "0")

    with pytest.raises(SystemExit, match="TRUSTED_PROXY_COUNT must count it"):
        production_environment()
