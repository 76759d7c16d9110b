"""The Python SDK (clients/python) against a live server and real workers: it creates, starts and watches a
migration of a local directory over the guide's paths and its WebSocket, to `completed`, as the guide's SDK section
does; it installs with pip from the repository; error answers arrive as exceptions with the guide's codes."""
import shutil
import subprocess
import sys

import pytest
from migration_assistant_sdk import MigrationAPIError, MigrationClient, WatchClosed

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from tests.servers import ROOT, ServerProcess
from tests.workers import cluster_environment

from .conftest import build_tree, checksums

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, migration_root):
    """One server (uvicorn: HTTP and WebSockets) for the module, confined like the session's workers."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("The server and the workers share state only through PostgreSQL and Redis.")
    started = ServerProcess(cluster_environment(migration_root))
    yield started
    started.stop()
    started.remove_log()


@pytest.fixture
def client(server, user):
    key = api_key_create(user=user, name="sdk", scopes=["migrations:read", "migrations:write"],
                         allowed=role_scopes(user.role))
    with MigrationClient(base_url=server.url, api_key=key.secret) as sdk:
        yield sdk


@pytest.fixture
def trees(tmp_path):
    source, destination = tmp_path / "site", tmp_path / "new-site"
    build_tree(source, files=6)
    return source, destination


def test_the_sdk_creates_starts_and_watches_a_migration_to_completed(client, workers, trees):
    source, destination = trees

    migration = client.migrations.create({
        "name": "Website files",
        "source": {"type": "directory", "path": str(source)},
        "destination": {"type": "directory", "path": str(destination)},
    })
    started = client.migrations.start(migration.session_id, auto_rollback=True)
    updates = list(client.migrations.watch(migration.session_id, timeout=60))
    final_status = client.migrations.get_status(migration.session_id)

    assert (migration.status, started.status) == ("pending", "started")
    assert {update.session_id for update in updates} == {migration.session_id}
    assert updates[-1].status == final_status.status == "completed"
    assert final_status.progress == 100
    assert checksums(destination) == checksums(source)


def test_the_list_finds_the_session_by_its_status(client, workers, trees):
    source, destination = trees
    migration = client.migrations.create({"name": "Listed", "source": {"type": "directory", "path": str(source)},
                                          "destination": {"type": "directory", "path": str(destination)}})

    listed = client.migrations.list(status_filter="pending", limit=10)

    assert [row.session_id for row in listed] == [migration.session_id]
    assert (listed[0].source_type, listed[0].destination_type) == ("directory", "directory")


def test_an_invalid_config_raises_with_the_guides_code_naming_the_field(client, trees):
    source, _ = trees

    with pytest.raises(MigrationAPIError) as raised:
        client.migrations.create({"name": "Nowhere", "source": {"type": "directory", "path": str(source)},
                                  "destination": {"type": "teleport"}})

    assert (raised.value.status_code, raised.value.code) == (400, "INVALID_CONFIGURATION")
    assert "destination.type" in raised.value.details and raised.value.request_id


def test_watching_an_unknown_session_is_refused_as_not_found(client):
    with pytest.raises(WatchClosed) as refused:
        next(client.migrations.watch("0" * 32, timeout=10))

    assert (refused.value.status_code, refused.value.code) == (4404, "MIGRATION_NOT_FOUND")


def test_the_sdk_installs_with_pip_from_the_repository(tmp_path):
    # A copy, as setuptools builds in the source tree (build/, *.egg-info) and the checkout stays clean.
    source, target = shutil.copytree(ROOT / "clients" / "python", tmp_path / "sdk"), tmp_path / "site-packages"

    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                           str(source)], capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert (target / "migration_assistant_sdk" / "py.typed").exists()
    assert (target / "migration_assistant_sdk" / "client.py").exists()
