"""Every field the guide documents in a migration config, a start and a rollback either does what it says or is a
400 naming it (dotted path); unknown keys anywhere are a 400 too, and nothing is written. What the accepted fields
do to a real run is in test_migration_options.py."""
import pytest

from apps.jobs.models import Job
from apps.migrations_app.adapters.confinement import Confinement
from apps.migrations_app.adapters.directory import copy_tree
from apps.migrations_app.adapters.directory.adapter import DirectoryAdapter
from apps.migrations_app.models import MigrationRun

from .conftest import build_tree, create_run, postgresql_config


@pytest.fixture
def plan(allowed):
    build_tree(allowed / "source", files=3)
    return {"name": "Move", "source": {"type": "directory", "path": str(allowed / "source")},
            "destination": {"type": "directory", "path": str(allowed / "destination")}}


def refusal(client, body: dict, path: str = "/api/v1/migrations/") -> dict:
    response = client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    return response.json()["error"]["details"]


def test_the_guides_transfer_and_safety_fields_are_accepted_and_stored(user_client, plan):
    body = create_run(user_client, **plan, transfer={"method": "hybrid_sync", "options": {
        "compression": True, "parallel_transfers": 4, "chunk_size": "10MB", "resume_on_failure": True,
        "verify_checksums": True}}, safety={"backup_before": True, "backup_retention_days": 30,
                                            "rollback_on_failure": True, "verify_after": True,
                                            "maintenance_mode": False})

    assert body["transfer"]["method"] == "hybrid_sync"
    assert body["transfer"]["options"]["chunk_size"] == 10 << 20 and body["transfer"]["options"]["compression"]
    assert body["safety"]["backup_retention_days"] == 30


@pytest.mark.parametrize("extra, field", [
    ({"notifications": {"email": {"enabled": True}}}, "notifications"),
    ({"owner": "me"}, "owner"),
    ({"status": "completed"}, "status"),
    ({"transfer": {"mode": "fast"}}, "transfer.mode"),
    ({"transfer": {"options": {"turbo": True}}}, "transfer.options.turbo"),
    ({"safety": {"snapshot": True}}, "safety.snapshot"),
])
def test_an_unknown_key_anywhere_is_400_naming_it_and_nothing_is_written(user_client, plan, extra, field):
    details = refusal(user_client, {**plan, **extra})

    assert field in details
    assert not MigrationRun.objects.exists()


@pytest.mark.parametrize("transfer, safety, field, words", [
    ({"method": "s3_sync"}, {}, "transfer.method", "Unsupported by this deployment"),
    ({"method": "ftp"}, {}, "transfer.method", "Unsupported by this deployment"),
    ({"method": "teleport"}, {}, "transfer.method", "Choose one of: hybrid_sync, rsync"),
    ({"options": {"compression": "yes please"}}, {}, "transfer.options.compression", "valid boolean"),
    ({"options": {"chunk_size": "10XB"}}, {}, "transfer.options.chunk_size", "A size in bytes"),
    ({"options": {"chunk_size": 1}}, {}, "transfer.options.chunk_size", "Between 64 KB and 64 MB"),
    ({"options": {"parallel_transfers": 0}}, {}, "transfer.options.parallel_transfers", "greater than or equal"),
    ({"options": {"resume_on_failure": False}}, {}, "transfer.options.resume_on_failure", "always resumes"),
    ({"options": {"verify_checksums": False}}, {}, "transfer.options.verify_checksums", "SHA-256"),
    ({}, {"maintenance_mode": True}, "safety.maintenance_mode", "Unsupported by this deployment"),
    ({}, {"backup_retention_days": 0}, "safety.backup_retention_days", "greater than or equal"),
])
def test_a_field_this_deployment_cannot_honour_is_400_naming_it(user_client, plan, transfer, safety, field, words):
    details = refusal(user_client, {**plan, "transfer": transfer, "safety": safety})

    assert any(words in message for message in details[field]), details
    assert not MigrationRun.objects.exists()


def test_rsync_moves_files_only_and_file_options_need_files(user_client, allowed):
    database_plan = {"name": "Rows", "source": {"type": "sqlite", "path": str(allowed / "app.sqlite3")},
                     "destination": postgresql_config("app")}

    rsync = refusal(user_client, {**database_plan, "transfer": {"method": "rsync"}})
    compression = refusal(user_client, {**database_plan, "transfer": {"options": {"compression": True,
                                                                                 "chunk_size": "1MB"}}})

    assert "rsync moves files only" in rsync["transfer.method"][0]
    assert set(compression) == {"transfer.options.compression", "transfer.options.chunk_size"}


def test_validate_refuses_what_create_refuses(user_client, plan):
    details = refusal(user_client, {**plan, "transfer": {"method": "docker_cp"}, "extra": 1},
                      path="/api/v1/migrations/validate")

    assert set(details) == {"extra"}   # the body's own keys first, then the config's


@pytest.mark.parametrize("body, field", [
    ({"auto_rollback": "sometimes"}, "auto_rollback"),
    ({"autorollback": True}, "autorollback"),
])
def test_a_start_body_with_an_unknown_or_bad_field_is_400_and_nothing_starts(user_client, plan, body, field):
    session_id = create_run(user_client, **plan)["session_id"]

    assert field in refusal(user_client, body, path=f"/api/v1/migrations/{session_id}/start")
    assert not Job.objects.exists() and MigrationRun.objects.get().status == "pending"


def test_start_records_auto_rollback_and_send_notifications(user_client, plan):
    session_id = create_run(user_client, **plan)["session_id"]

    response = user_client.post(f"/api/v1/migrations/{session_id}/start",
                                {"auto_rollback": True, "send_notifications": True}, format="json")

    assert response.status_code == 202
    assert (response.json()["auto_rollback"], response.json()["send_notifications"]) == (True, True)


@pytest.mark.parametrize("body, field", [
    ({"backup_id": "backup-20240826-143022"}, "backup_id"),
    ({"rollback_options": {"restore_configuration": True}}, "rollback_options.restore_configuration"),
    ({"rollback_options": {"restore_files": False, "restore_database": False}}, "rollback_options"),
    ({"rollback_options": {"restore_everything": True}}, "rollback_options.restore_everything"),
    ({"backup": "x"}, "backup"),
])
def test_a_rollback_body_naming_what_cannot_be_restored_is_400(user_client, plan, body, field):
    session_id = create_run(user_client, **plan)["session_id"]
    MigrationRun.objects.update(status="completed", backup={"id": "backup-20990101-000000-abcdef12",
                                                             "taken_at": None, "parts": {}})

    assert field in refusal(user_client, body, path=f"/api/v1/migrations/{session_id}/rollback")
    assert MigrationRun.objects.get().status == "completed" and not Job.objects.exists()


def test_chunk_size_and_parallel_transfers_change_the_copy(allowed):
    build_tree(allowed / "source", files=6, size=300_000)
    confinement = Confinement(allowed_roots=(allowed,))
    source = DirectoryAdapter({"path": str(allowed / "source")}, confinement=confinement)
    destination = DirectoryAdapter({"path": str(allowed / "destination")}, confinement=confinement)

    report = copy_tree(source, destination, parallel=3, chunk_size=64 << 10, progress=lambda **measures: None)

    assert (report.details["chunk_size"], report.details["parallel"]) == (64 << 10, 3)
    assert report.items_copied == 7
