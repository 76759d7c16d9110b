"""What the guide's options do to real runs, through the worker cluster: auto_rollback at start, rollback of
chosen parts by backup id, compressed backups, chunk size, deleting a migration with its backups, and the
scheduled job that discards backups past safety.backup_retention_days."""
import gzip
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from django_q.models import Schedule

from apps.migrations_app.apps import RETENTION_SCHEDULE
from apps.migrations_app.models import MigrationRun
from apps.migrations_app.services import migrations_discard_expired_backups

from .conftest import build_tree, checksums, create_run, files_only, wait_until


def rows(path: Path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT id, name FROM people ORDER BY id").fetchall()


def make_people(path: Path, names: list[str]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", enumerate(names, 1))
        conn.commit()


def site_plan(allowed: Path) -> dict:
    """A Django site (media files and a SQLite database) moved onto another that already has both."""
    build_tree(allowed / "old" / "media", files=6)
    make_people(allowed / "old" / "db.sqlite3", ["Ada", "Grace", "Linus"])
    (allowed / "new" / "media").mkdir(parents=True)
    (allowed / "new" / "media" / "top.txt").write_text("the new site's own file\n")
    make_people(allowed / "new" / "db.sqlite3", ["Placeholder"])
    side = lambda root: {"type": "django_site", "files": {"type": "directory", "path": str(root / "media")},
                         "database": {"type": "sqlite", "path": str(root / "db.sqlite3")}}
    return {"source": side(allowed / "old"), "destination": side(allowed / "new"),
            "safety": {"backup_before": True, "verify_after": True}}


def completed(client, **plan) -> dict:
    run = create_run(client, **plan)
    assert client.post(f"/api/v1/migrations/{run['session_id']}/start").status_code == 202
    final = wait_until(client, run["session_id"])
    assert final["status"] == "completed", final["error"]
    return run


def test_auto_rollback_at_start_restores_a_failed_run_though_safety_did_not_ask(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    tree = build_tree(source)
    blocked = sorted(path for path in tree if path.startswith("level-1"))[0]
    (destination / blocked).mkdir(parents=True)   # a directory where the source has a file: the copy fails
    before = checksums(destination)
    run = create_run(user_client, source={"type": "directory", "path": str(source)},
                     destination={"type": "directory", "path": str(destination)},
                     safety={"backup_before": True, "rollback_on_failure": False})

    user_client.post(f"/api/v1/migrations/{run['session_id']}/start", {"auto_rollback": True}, format="json")
    final = wait_until(user_client, run["session_id"])

    assert final["status"] == "rolled_back" and blocked in final["error"]
    assert checksums(destination) == before


def test_a_rollback_restores_only_the_parts_asked_for_by_the_backups_id(workers, user_client, allowed):
    run = completed(user_client, **site_plan(allowed))
    media = allowed / "new" / "media"
    backup_id = MigrationRun.objects.get().backup["id"]

    files_only_rollback = user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback", {
        "backup_id": backup_id, "rollback_options": {"restore_files": True, "restore_database": False}},
        format="json")
    after_files = wait_until(user_client, run["session_id"], "rolled_back", "failed")
    files_then, rows_then = files_only(checksums(media)), rows(allowed / "new" / "db.sqlite3")
    database_rollback = user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback",
                                         {"backup_id": backup_id}, format="json")
    after_database = wait_until(user_client, run["session_id"], "rolled_back", "failed")

    assert files_only_rollback.status_code == 202 and files_only_rollback.json()["status"] == "rollback_started"
    assert after_files["status"] == "rolled_back"
    assert list(files_then) == ["top.txt"]
    assert rows_then == [(1, "Ada"), (2, "Grace"), (3, "Linus")]    # the database was left migrated
    assert database_rollback.status_code == 202 and after_database["status"] == "rolled_back"
    assert rows(allowed / "new" / "db.sqlite3") == [(1, "Placeholder")]
    assert MigrationRun.objects.get().backup is None


def test_compression_keeps_the_files_backup_gzipped_and_a_rollback_restores_the_bytes(workers, user_client,
                                                                                       allowed):
    source, destination = allowed / "source", allowed / "destination"
    tree = build_tree(source, files=4)
    for relative in tree:   # same names, other (compressible) bytes: all of them are backed up
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        (destination / relative).write_text(f"the destination's own {relative}\n" * 2000)
    before = checksums(destination)
    run = completed(user_client, source={"type": "directory", "path": str(source)},
                    destination={"type": "directory", "path": str(destination)},
                    transfer={"method": "rsync", "options": {"compression": True, "chunk_size": "64KB"}})
    backup = MigrationRun.objects.get().backup["parts"]["main"]
    stored = sorted(Path(backup["backup_dir"], "files").rglob("*.gz"))

    user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback")
    final = wait_until(user_client, run["session_id"], "rolled_back", "failed")

    assert backup["compressed"] is True and len(stored) == 5
    assert all(gzip.decompress(path.read_bytes()) for path in stored)
    assert backup["stored_bytes"] < backup["bytes_saved"]
    assert final["status"] == "rolled_back" and checksums(destination) == before


def test_deleting_a_finished_migration_discards_its_backup(workers, user_client, allowed):
    build_tree(allowed / "source", files=3)
    build_tree(allowed / "destination", files=3)
    run = completed(user_client, source={"type": "directory", "path": str(allowed / "source")},
                    destination={"type": "directory", "path": str(allowed / "destination")})
    backup_dir = Path(MigrationRun.objects.get().backup["parts"]["main"]["backup_dir"])
    assert backup_dir.exists()

    response = user_client.delete(f"/api/v1/migrations/{run['session_id']}/")

    assert response.status_code == 204
    assert not backup_dir.exists() and not MigrationRun.objects.exists()
    assert user_client.get(f"/api/v1/migrations/{run['session_id']}/status").status_code == 404


def test_backups_past_their_retention_are_discarded_by_the_scheduled_job(workers, user_client, allowed):
    plan = {**site_plan(allowed), "safety": {"backup_before": True, "backup_retention_days": 2}}
    (allowed / "other").mkdir()
    run = completed(user_client, **plan)
    kept = completed(user_client, source=plan["source"], destination={
        "type": "django_site", "files": {"type": "directory", "path": str(allowed / "other" / "media")},
        "database": {"type": "sqlite", "path": str(allowed / "other" / "db.sqlite3")}},
        safety={"backup_before": True, "backup_retention_days": 30})
    backup = MigrationRun.objects.get(session_id=run["session_id"]).backup
    MigrationRun.objects.update(finished_at=timezone.now() - timedelta(days=3))

    discarded = migrations_discard_expired_backups()

    expired = MigrationRun.objects.get(session_id=run["session_id"])
    assert discarded == 1 and expired.backup is None
    assert MigrationRun.objects.get(session_id=kept["session_id"]).backup is not None
    assert not Path(backup["parts"]["files"]["backup_dir"]).exists()
    assert not Path(backup["parts"]["database"]["file"]).exists()
    assert "discarded" in expired.logs.last().message
    assert user_client.post(f"/api/v1/migrations/{run['session_id']}/rollback").status_code == 409
    assert Schedule.objects.get(name=RETENTION_SCHEDULE).func.endswith("migrations_discard_expired_backups")
