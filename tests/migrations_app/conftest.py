"""Fixtures of the migration tests: confinement to tmp_path, scratch PostgreSQL and MariaDB databases, trees and
their checksums, and a helper that follows a run through the API until the workers are done with it.

Scratch databases are named tessera_mig_<random> and dropped afterwards. The worker cluster (tests/workers.py)
is confined to the session's temporary directory, which holds every test's `tmp_path`.
"""
import hashlib
import os
import socket
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pymysql
import pytest

from apps.migrations_app.adapters.confinement import Confinement
from apps.migrations_app.adapters.databases import MySQLAdapter, PostgreSQLAdapter, table_checksums
from tests.workers import wait_for

HOST = "127.0.0.1"
#: The local servers the tests reach. They trust loopback, so password-less logins to them are allowed, as an
#: operator would list them in MIGRATION_ALLOW_PASSWORDLESS.
LOCAL_SERVERS = [f"{HOST}:5432", f"{HOST}:3306"]
#: A confinement for adapters built directly (no settings): the local servers, password-less.
LOCAL = Confinement(allowed_db_hosts=tuple(LOCAL_SERVERS), passwordless_hosts=tuple(LOCAL_SERVERS))
#: A password given in configs: it must never come back in a response, a log line or a page.
SECRET = "pw-CANARY-5e1c-never-shown"
FINISHED = ("completed", "failed", "cancelled", "rolled_back")


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


@pytest.fixture
def allowed(tmp_path, settings):
    """The directory migrations may use in this test (web side); the workers allow the session's tmp root.
    Backups are kept beside it: a backup root is the platform's own, so it cannot lie inside what migrations use."""
    root = tmp_path / "allowed"
    root.mkdir()
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_ROOTS": [str(root)],
                                   "ALLOWED_DB_HOSTS": LOCAL_SERVERS, "ALLOW_PASSWORDLESS": LOCAL_SERVERS,
                                   "BACKUP_ROOT": str(tmp_path / "backups")}
    return root


@pytest.fixture
def plan(allowed):
    """A directory-to-directory plan over a small tree (the destination does not exist yet)."""
    build_tree(allowed / "source", files=3)
    return {"source": {"type": "directory", "path": str(allowed / "source")},
            "destination": {"type": "directory", "path": str(allowed / "destination")}}


# --- Trees ---------------------------------------------------------------------------------------------------------

def build_tree(root: Path, *, files: int = 12, size: int = 2048) -> dict[str, str]:
    """A nested tree of `files` files over three levels; {relative path: sha256}."""
    written = {}
    for index in range(files):
        relative = f"level-{index % 3}/sub-{index % 2}/deep/file-{index:03}.bin"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        content = f"{relative}\n".encode() + os.urandom(size)
        path.write_bytes(content)
        written[relative] = hashlib.sha256(content).hexdigest()
    (root / "top.txt").write_text("top of the tree\n")
    written["top.txt"] = hashlib.sha256(b"top of the tree\n").hexdigest()
    return written


def checksums(root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `root`, and the directories (value "dir"). A tree a worker is
    still writing may lose a file between listing and reading (a part file renamed into place): it is left out."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[str(Path(directory, name).relative_to(root))] = "dir"
        for name in filenames:
            path = Path(directory, name)
            try:
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                continue
    return found


def files_only(tree: dict[str, str]) -> dict[str, str]:
    return {path: digest for path, digest in tree.items() if digest != "dir"}


# --- Scratch databases ---------------------------------------------------------------------------------------------

def pg_admin():
    return psycopg.connect(host=HOST, user="postgres", dbname="postgres", autocommit=True)


def maria_admin():
    return pymysql.connect(host=HOST, user="root", password="", autocommit=True)


@pytest.fixture
def scratch_postgresql():
    """new() -> the name of a fresh PostgreSQL database tessera_mig_<random>, dropped after the test."""
    if not _answers(5432):
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    created = []

    def new():
        name = f"tessera_mig_{uuid.uuid4().hex[:10]}"
        with pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return name

    yield new
    with pg_admin() as admin:
        for name in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch_mariadb():
    """new() -> the name of a fresh MariaDB database tessera_mig_<random>, dropped after the test."""
    if not _answers(3306):
        pytest.skip("MariaDB does not answer on 127.0.0.1:3306")
    created = []

    def new():
        name = f"tessera_mig_{uuid.uuid4().hex[:10]}"
        with closing(maria_admin()) as admin, closing(admin.cursor()) as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        created.append(name)
        return name

    yield new
    with closing(maria_admin()) as admin, closing(admin.cursor()) as cursor:
        for name in created:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def postgresql_config(database: str, **extra) -> dict:
    return {"type": "postgresql", "host": HOST, "port": 5432, "database": database, "username": "postgres", **extra}


def mysql_config(database: str, **extra) -> dict:
    return {"type": "mysql", "host": HOST, "port": 3306, "database": database, "username": "root", **extra}


def postgresql_checksums(database: str) -> dict:
    """{table: {"rows": n, "checksum": hex}} of a PostgreSQL database's public schema."""
    return table_checksums(PostgreSQLAdapter(postgresql_config(database), confinement=LOCAL))


def mysql_checksums(database: str) -> dict:
    return table_checksums(MySQLAdapter(mysql_config(database), confinement=LOCAL))


# --- Following a run -----------------------------------------------------------------------------------------------

def run_status(client, run_id: int) -> dict:
    response = client.get(f"/api/v1/migrations/{run_id}/status")
    assert response.status_code == 200, response.content
    return response.json()


def wait_until(client, run_id: int, *statuses: str, timeout: float = 20) -> dict:
    """GET {id}/status until the run reaches one of `statuses` (any finished one by default); that status."""
    wanted = statuses or FINISHED
    return wait_for(lambda: (status := run_status(client, run_id))["status"] in wanted and status,
                    timeout=timeout, interval=0.1, what=f"migration {run_id} to reach {', '.join(wanted)}")


def create_run(client, **config) -> dict:
    response = client.post("/api/v1/migrations/", {"name": config.pop("name", "A migration"), **config},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()
