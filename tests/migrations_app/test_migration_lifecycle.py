"""Migrations end to end: started through the API, run by the real worker cluster, moving real files and real
SQLite, MariaDB and PostgreSQL data on this machine; cancelled, resumed, verified and rolled back.
"""
import fcntl
import os
import signal
import sqlite3
import time
from contextlib import closing, contextmanager

from apps.jobs.progress import HEARTBEAT_INTERVAL
from apps.jobs.services import jobs_reap_stale
from apps.migrations_app.adapters.directory.transfer import REPORT_INTERVAL
from apps.migrations_app.models import MigrationRun
from tests.jobs.test_worker_crash import kill_the_worker_running
from tests.workers import wait_for

from .conftest import (build_tree, checksums, create_run, files_only, maria_admin, mysql_checksums, mysql_config,
                       postgresql_checksums, postgresql_config, run_status, wait_until)


@contextmanager
def held_open(path):
    """A write lease on `path`: whoever opens it (the worker's copy) blocks until the block ends. SIGIO, which
    the kernel sends the holder when an open waits, is ignored; the lease is simply let go afterwards."""
    previous = signal.signal(signal.SIGIO, signal.SIG_IGN)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.fcntl(descriptor, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        yield
    finally:
        fcntl.fcntl(descriptor, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        os.close(descriptor)
        signal.signal(signal.SIGIO, previous)


def directory_plan(source, destination, **safety) -> dict:
    return {"source": {"type": "directory", "path": str(source)},
            "destination": {"type": "directory", "path": str(destination)},
            "transfer": {"options": {"parallel_transfers": 1}},
            "safety": {"backup_before": True, "rollback_on_failure": False, "verify_after": True, **safety}}


def test_a_nested_tree_cancelled_midway_resumes_and_is_verified_by_checksums(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    tree = build_tree(source, files=30)
    ordered = sorted(path for path in tree if path.startswith("level-"))
    blocking = source / ordered[len(ordered) // 2]   # files are copied in name order, one at a time
    run = create_run(user_client, **directory_plan(source, destination))

    with held_open(blocking):
        started = user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
        wait_for(lambda: destination.exists() and len(files_only(checksums(destination))) >= 3, timeout=15,
                 what="the copy to get under way")
        cancelled = user_client.post(f"/api/v1/migrations/{run['session_id']}/cancel")
        # The worker notices the request at its next heartbeat and stops at its next progress report.
        time.sleep(2 * (HEARTBEAT_INTERVAL + REPORT_INTERVAL))
    after_cancel = wait_until(user_client, run["session_id"])
    copied_before_cancel = files_only(checksums(destination))
    resumed = user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    final = wait_until(user_client, run["session_id"])
    metrics = user_client.get(f"/api/v1/migrations/{run['session_id']}/metrics").json()

    assert started.status_code == 202 and started.json()["status"] == "started"
    assert cancelled.status_code == 200
    assert after_cancel["status"] == "cancelled"
    assert 3 <= len(copied_before_cancel) < len(tree)
    assert resumed.status_code == 202
    assert final["status"] == "completed", final
    assert metrics["metrics"]["parts"]["main"]["items_skipped"] == len(copied_before_cancel)
    assert metrics["metrics"]["parts"]["main"]["items_copied"] == len(tree) - len(copied_before_cancel)
    assert metrics["metrics"]["parts"]["main"]["verified"] == len(tree)
    assert files_only(checksums(destination)) == tree
    # The backup is the first attempt's, taken before anything was copied: rolling back the resumed run
    # leaves the destination as it was before the migration (it did not exist), not half-copied.
    user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback")
    assert wait_until(user_client, run["session_id"], "rolled_back", "failed")["status"] == "rolled_back"
    assert not destination.exists() or files_only(checksums(destination)) == {}


def test_a_migration_whose_worker_is_killed_mid_copy_ends_failed_when_the_reaper_fails_its_job(workers, user_client,
                                                                                                  allowed):
    source, destination = allowed / "source", allowed / "destination"
    tree = build_tree(source, files=30)
    blocking = source / sorted(path for path in tree if path.startswith("level-"))[10]
    run = create_run(user_client, **directory_plan(source, destination))

    with held_open(blocking):  # the copy waits on this file, its heartbeat going, until the worker is killed
        user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
        wait_for(lambda: destination.exists() and len(files_only(checksums(destination))) >= 3, timeout=15,
                 what="the copy to get under way")
        kill_the_worker_running(MigrationRun.objects.get(session_id=run["session_id"]).job_id)
    assert run_status(user_client, run["session_id"])["status"] == "running"  # nobody is left to say otherwise

    jobs_reap_stale()

    ended = run_status(user_client, run["session_id"])
    assert ended["status"] == "failed"
    assert "worker stopped responding" in ended["error"]


def test_a_failing_tree_migration_is_rolled_back_automatically_to_the_byte(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    tree = build_tree(source)
    (destination / "level-0").mkdir(parents=True)
    (destination / "top.txt").write_text("the destination's own top.txt\n")
    (destination / "keep.txt").write_text("not in the source\n")
    # Where the source has a file, the destination has a directory: that file cannot be written.
    blocked = sorted(path for path in tree if path.startswith("level-1"))[0]
    (destination / blocked).mkdir(parents=True)
    (destination / blocked / "inside.txt").write_text("in the way\n")
    before = checksums(destination)
    run = create_run(user_client, **directory_plan(source, destination, rollback_on_failure=True))

    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    final = wait_until(user_client, run["session_id"])
    errors = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs", {"level": "error"}).json()

    assert final["status"] == "rolled_back", final
    assert blocked in final["error"]
    assert checksums(destination) == before
    assert any("restored from the backup" in entry["message"] for entry in errors["logs"])


def test_an_explicit_rollback_after_success_restores_the_tree_exactly(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    build_tree(source)
    destination.mkdir()
    (destination / "top.txt").write_text("before the migration\n")
    before = checksums(destination)
    run = create_run(user_client, **directory_plan(source, destination))
    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    assert wait_until(user_client, run["session_id"])["status"] == "completed"
    assert checksums(destination) != before

    response = user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback")
    final = wait_until(user_client, run["session_id"], "rolled_back", "failed")
    again = user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback")

    assert response.status_code == 202 and response.json()["status"] == "rollback_started"
    assert final["status"] == "rolled_back"
    assert checksums(destination) == before
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


# --- Databases -----------------------------------------------------------------------------------------------------

PEOPLE = [(1, "Zoë Ångström", "zoe@example.com", 1234.5, "2024-01-02"), (2, "Bob", None, -0.25, None),
          (3, "Ünïcødé 🚀", "u@example.com", 0.0, "1999-12-31")]


def make_sqlite(path, *, bad_order=False):
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE a_people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
                     "balance REAL, joined DATE)")
        conn.executemany("INSERT INTO a_people VALUES (?, ?, ?, ?, ?)", PEOPLE)
        conn.execute("CREATE TABLE b_orders (id INTEGER PRIMARY KEY, person_id INTEGER, total INTEGER)")
        conn.executemany("INSERT INTO b_orders VALUES (?, ?, ?)", [(n, n % 3 + 1, n * 10) for n in range(1, 501)])
        if bad_order:
            # SQLite stores what it is given: text in an INTEGER column, which no PostgreSQL integer accepts.
            conn.execute("INSERT INTO b_orders VALUES (501, 1, 'twelve')")
        conn.commit()


def seed_postgresql(database):
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=database, autocommit=True) as conn:
        conn.execute("CREATE TABLE a_people (id integer PRIMARY KEY, name text)")
        conn.execute("INSERT INTO a_people VALUES (42, 'the destination''s own row')")
        conn.execute("CREATE TABLE untouched (id integer PRIMARY KEY)")
        conn.execute("INSERT INTO untouched SELECT generate_series(1, 10)")


def test_sqlite_into_postgresql_moves_the_rows_and_verifies_counts_and_checksums(workers, user_client, allowed,
                                                                                 scratch_postgresql):
    make_sqlite(allowed / "app.sqlite3")
    database = scratch_postgresql()
    run = create_run(user_client, source={"type": "sqlite", "path": str(allowed / "app.sqlite3")},
                     destination=postgresql_config(database),
                     safety={"backup_before": True, "verify_after": True})

    started = user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    final = wait_until(user_client, run["session_id"])
    metrics = user_client.get(f"/api/v1/migrations/{run['session_id']}/metrics").json()
    logs = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs").json()

    assert started.status_code == 202
    assert final["status"] == "completed" and final["progress"] == 100, final
    assert final["steps_completed"] == final["steps_total"] == 3 and final["current_operation"] is None
    assert {table: value["rows"] for table, value in postgresql_checksums(database).items()} == {
        "a_people": 3, "b_orders": 500}
    measured = metrics["metrics"]
    part = measured["parts"]["main"]
    assert part["items_copied"] == 503 and part["verified"] == 2
    assert measured["database"] == {"tables_migrated": 2, "tables_total": 2, "rows_migrated": 503, "rows_total": 503,
                                    "data_size": measured["database"]["data_size"]}
    assert measured["overall"]["progress"] == 100 and measured["overall"]["duration"] > 0
    assert measured["errors"] == {"total_errors": 0, "total_warnings": 0, "retry_count": 0}
    assert measured["system"]["cpu_usage"] is not None and measured["system"]["memory_usage"].endswith("MB")
    messages = [entry["message"] for entry in logs["logs"]]
    assert messages[0].startswith("Started by user@example.com")
    assert {entry["component"] for entry in logs["logs"]} >= {"backup", "database_transfer", "verification"}
    assert "main: verifying" in messages and any(m.startswith("main: done (503 copied") for m in messages)


def test_mariadb_into_postgresql_moves_the_rows_and_verifies_counts_and_checksums(workers, user_client, allowed,
                                                                                 scratch_mariadb, scratch_postgresql):
    source = scratch_mariadb()
    with closing(maria_admin()) as admin, closing(admin.cursor()) as cursor:
        cursor.execute(f"USE `{source}`")
        cursor.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(80) NOT NULL, "
                       "credit DECIMAL(10,2), active TINYINT(1), seen DATETIME, note TEXT)")
        cursor.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s, %s, %s)",
                           [(n, f"Kunde {n} – ü", f"{n}.25", n % 2, f"2024-03-{n % 28 + 1:02} 10:00:00",
                             None if n % 5 else "née ☕") for n in range(1, 301)])
    database = scratch_postgresql()
    run = create_run(user_client, source=mysql_config(source), destination=postgresql_config(database),
                     safety={"backup_before": True, "verify_after": True})

    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    final = wait_until(user_client, run["session_id"])
    metrics = user_client.get(f"/api/v1/migrations/{run['session_id']}/metrics").json()

    assert final["status"] == "completed", final
    assert postgresql_checksums(database)["customers"]["rows"] == mysql_checksums(source)["customers"]["rows"] == 300
    assert metrics["metrics"]["parts"]["main"]["verified"] == 1
    assert metrics["metrics"]["parts"]["main"]["items_copied"] == 300


def test_a_failing_database_migration_is_rolled_back_automatically_to_the_same_checksums(
        workers, user_client, allowed, scratch_postgresql):
    make_sqlite(allowed / "app.sqlite3", bad_order=True)
    database = scratch_postgresql()
    seed_postgresql(database)
    before = postgresql_checksums(database)
    run = create_run(user_client, source={"type": "sqlite", "path": str(allowed / "app.sqlite3")},
                     destination=postgresql_config(database),
                     safety={"backup_before": True, "rollback_on_failure": True, "verify_after": True})

    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    final = wait_until(user_client, run["session_id"])

    assert final["status"] == "rolled_back", final
    assert "b_orders" in final["error"] or "twelve" in final["error"]
    assert postgresql_checksums(database) == before


def test_an_explicit_rollback_restores_the_database_to_the_same_checksums(workers, user_client, allowed,
                                                                          scratch_postgresql):
    make_sqlite(allowed / "app.sqlite3")
    database = scratch_postgresql()
    seed_postgresql(database)
    before = postgresql_checksums(database)
    run = create_run(user_client, source={"type": "sqlite", "path": str(allowed / "app.sqlite3")},
                     destination=postgresql_config(database), safety={"backup_before": True})
    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    assert wait_until(user_client, run["session_id"])["status"] == "completed"
    assert postgresql_checksums(database) != before

    response = user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback")
    final = wait_until(user_client, run["session_id"], "rolled_back", "failed")

    assert response.status_code == 202
    assert final["status"] == "rolled_back", final
    assert postgresql_checksums(database) == before


def test_logs_filter_by_level_since_and_limit(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    build_tree(source, files=3)
    run = create_run(user_client, **directory_plan(source, destination))
    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    wait_until(user_client, run["session_id"])
    everything = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs").json()["logs"]

    first_two = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs", {"limit": 2}).json()
    since = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs",
                            {"since": everything[1]["timestamp"]}).json()["logs"]
    warnings = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs", {"level": "warning"}).json()["logs"]
    guide_case = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs", {"level": "WARNING"}).json()["logs"]
    bad_level = user_client.get(f"/api/v1/migrations/{run['session_id']}/logs", {"level": "loud"})

    assert len(everything) >= 4
    assert first_two["logs"] == everything[:2]
    assert first_two["total_logs"] == len(everything) and first_two["has_more"] is True
    assert since == [entry for entry in everything[2:] if entry["timestamp"] > everything[1]["timestamp"]]
    assert warnings == guide_case == [entry for entry in everything if entry["level"] in ("WARNING", "ERROR")]
    assert bad_level.status_code == 400 and "level" in bad_level.json()["error"]["details"]
