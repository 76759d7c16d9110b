"""The guide's progress socket, ws://host/ws/migrations/{session_id}, on a live server: it speaks the status answer's
fields (the guide's snippet reads `progress`, `current_step` and `performance_metrics`), follows a run through real
workers to `completed`, and lets in exactly whom GET .../status lets in."""
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.accounts.services import token_pair_issue
from apps.migrations_app.services import migration_create
from tests.conftest import client_for
from tests.servers import ServerProcess
from tests.workers import cluster_environment

from .conftest import build_tree

pytestmark = pytest.mark.django_db(transaction=True)

NOT_AUTHENTICATED, NOT_FOUND = 4401, 4404


@pytest.fixture(scope="module")
def server(django_db_setup, migration_root):
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("The server and the workers share state only through PostgreSQL and Redis.")
    started = ServerProcess(cluster_environment(migration_root))
    yield started
    started.stop()
    started.remove_log()


@pytest.fixture
def run(allowed, user, tenant):
    build_tree(allowed / "source", files=6)
    return migration_create(tenant=tenant, created_by=user, name="Watched",
                            source={"type": "directory", "path": str(allowed / "source")},
                            destination={"type": "directory", "path": str(allowed / "destination")})


def socket_url(server, session_id: str, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}/ws/migrations/{session_id}{query}"


def token(user) -> str:
    return token_pair_issue(user)["access"]


def closed_with(url: str, **options) -> int:
    with connect(url, open_timeout=10, **options) as socket:
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    return socket.close_code


def test_a_socket_without_credentials_is_closed_as_not_authenticated(server, run):
    assert closed_with(socket_url(server, run.session_id)) == NOT_AUTHENTICATED


def test_another_tenants_migration_is_closed_as_not_found(server, run, other_user):
    assert closed_with(socket_url(server, run.session_id, f"?token={token(other_user)}")) == NOT_FOUND


def test_the_first_message_is_the_status_answer_with_a_type(server, run, user, tenant):
    with connect(socket_url(server, run.session_id), open_timeout=10,
                 additional_headers={"Authorization": f"Bearer {token(user)}"}) as socket:
        message = json.loads(socket.recv(timeout=10))

    status = client_for(user, tenant).get(f"/migrations/{run.session_id}/status").json()
    assert message == {"type": "migration.progress", **status}


def test_a_socket_follows_a_run_to_completed(server, workers, run, user, tenant):
    with connect(socket_url(server, run.session_id), open_timeout=10,
                 subprotocols=["tessera.bearer", token(user)]) as socket:
        messages = [json.loads(socket.recv(timeout=10))]
        client_for(user, tenant).post(f"/migrations/{run.session_id}/start", format="json")
        while messages[-1]["type"] != "migration.finished":
            messages.append(json.loads(socket.recv(timeout=60)))

    assert {message["session_id"] for message in messages} == {run.session_id}
    assert (messages[0]["status"], messages[-1]["status"], messages[-1]["progress"]) == ("pending", "completed", 100)
    progress = [message["progress"] for message in messages]
    assert progress == sorted(progress)
