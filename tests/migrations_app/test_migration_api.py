"""The Migrations HTTP contract without workers: refusals with field-level errors, the state machine's 409s under
row locks, the tenant's limit, validate and the system catalogue, batch, schedule, and who may do what."""
import sqlite3
import threading
from contextlib import closing
from datetime import timedelta

import psycopg
import pytest
from django.db import connections
from django.utils import timezone
from django_q.models import Schedule

from apps.jobs.models import Job
from apps.jobs.services import jobs_reap_stale
from apps.migrations_app.conf import migrations_settings
from apps.migrations_app.models import MigrationLog, MigrationRun
from apps.tenants.services import tenant_policies_set
from tests.conftest import CANARY, client_for

from .conftest import HOST, create_run, postgresql_config


@pytest.fixture
def run(user, tenant, plan):
    from apps.migrations_app.services import migration_create

    return migration_create(tenant=tenant, created_by=user, name="Move the tree", **plan)


@pytest.fixture
def other_tenant_run(other_user, other_tenant, plan):
    from apps.migrations_app.services import migration_create

    return migration_create(tenant=other_tenant, created_by=other_user, name=f"Globex move {CANARY}", **plan)


def error_fields(response) -> set[str]:
    return set(response.json()["error"]["details"])


# --- Create and its refusals ---------------------------------------------------------------------------------------

def test_create_returns_201_created_with_the_config(user_client, plan):
    response = user_client.post("/api/v1/migrations/", {"name": "Move", **plan}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["progress"] == 0 and body["current_step"] == ""
    assert body["source"] == {"type": "directory", "path": plan["source"]["path"]}
    assert (body["source_type"], body["destination_type"]) == ("directory", "directory")
    assert (body["start_time"], body["end_time"], body["duration"], body["error"]) == (None, None, None, None)
    assert body["transfer"] == {"method": "hybrid_sync"}
    assert body["safety"] == {"backup_before": True, "backup_retention_days": None, "rollback_on_failure": False,
                              "verify_after": True, "maintenance_mode": False}


@pytest.mark.parametrize("make_side, field", [
    (lambda root, tmp: {"type": "directory", "path": f"{root}/source/../../outside"}, "source.path"),
    (lambda root, tmp: {"type": "directory", "path": "../outside"}, "source.path"),
    (lambda root, tmp: {"type": "directory", "path": str(root / "escape")}, "source.path"),
    (lambda root, tmp: {"type": "directory", "path": "/etc"}, "source.path"),
    (lambda root, tmp: {"type": "sqlite", "path": str(root / "escape" / "db.sqlite3")}, "source.path"),
    (lambda root, tmp: {"type": "teleport"}, "source.type"),
    (lambda root, tmp: "a string", "source"),
])
def test_a_source_that_escapes_or_is_unknown_is_400_naming_the_field_and_nothing_is_written(
        user_client, allowed, tmp_path, plan, make_side, field):
    (tmp_path / "outside").mkdir()
    (allowed / "escape").symlink_to(tmp_path / "outside")

    response = user_client.post("/api/v1/migrations/", {"name": "Escape", **plan,
                                                         "source": make_side(allowed, tmp_path)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in error_fields(response)
    assert not MigrationRun.objects.exists() and not MigrationLog.objects.exists()


def test_a_database_host_outside_the_allow_list_is_400_on_destination_host(user_client, allowed):
    response = user_client.post("/api/v1/migrations/", {
        "name": "Exfiltrate", "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": {"type": "postgresql", "host": "db.example.com", "database": "x", "username": "postgres"}},
        format="json")

    assert response.status_code == 400
    assert error_fields(response) == {"destination.host"}
    assert not MigrationRun.objects.exists()


def test_database_credentials_are_username_and_the_old_user_is_400_naming_it(user_client, allowed):
    login = {key: value for key, value in postgresql_config("x").items() if key != "username"}

    response = user_client.post("/api/v1/migrations/", {
        "name": "Old words", "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": {**login, "user": "postgres"}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["destination.user"] == ["Unknown field; this is `username`."]
    assert not MigrationRun.objects.exists()


def test_a_session_id_is_the_public_id_and_the_internal_pk_names_nothing(user_client, run):
    assert user_client.get(f"/api/v1/migrations/{run.session_id}/").json()["session_id"] == run.session_id
    assert user_client.get(f"/api/v1/migrations/{run.pk}/").status_code == 404
    assert "id" not in user_client.get(f"/api/v1/migrations/{run.session_id}/").json()


def test_a_tenant_narrower_allow_list_refuses_hosts_the_deployment_allows(user_client, tenant, allowed):
    tenant_policies_set(tenant=tenant, migration_db_hosts=["localhost"])

    response = user_client.post("/api/v1/migrations/", {
        "name": "Narrowed", "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": postgresql_config("x")}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.host"}


@pytest.mark.parametrize("section, value, field", [
    ("transfer", {"options": {"parallel_transfers": 0}}, "transfer.options.parallel_transfers"),
    ("transfer", {"options": {"parallel_transfers": 99}}, "transfer.options.parallel_transfers"),
    ("transfer", {"options": {"batch_size": 1}}, "transfer.options.batch_size"),
    ("safety", {"verify_after": "perhaps"}, "safety.verify_after"),
    ("safety", {"backup_before": [1]}, "safety.backup_before"),
])
def test_bad_transfer_and_safety_options_are_400_naming_the_field(user_client, plan, section, value, field):
    response = user_client.post("/api/v1/migrations/", {"name": "Options", **plan, section: value}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert not MigrationRun.objects.exists()


def test_every_bad_field_is_reported_at_once(user_client, plan):
    response = user_client.post("/api/v1/migrations/", {
        "name": "All wrong", "source": {"type": "directory", "path": "/etc"},
        "destination": {"type": "mysql", "host": "evil.example", "database": "d", "username": "u"},
        "transfer": {"options": {"parallel_transfers": 0}}}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == {"source.path", "destination.host", "transfer.options.parallel_transfers"}


def test_a_files_source_into_a_database_is_400_on_destination_type(user_client, plan):
    response = user_client.post("/api/v1/migrations/", {"name": "Mismatch", "source": plan["source"],
                                                         "destination": postgresql_config("x")}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.type"}


def test_a_site_kind_names_the_field_of_its_part(user_client, allowed):
    response = user_client.post("/api/v1/migrations/", {
        "name": "Site", "source": {"type": "django_site", "files": {"type": "directory", "path": "/etc"},
                                   "database": {"type": "sqlite", "path": "db.sqlite3"}},
        "destination": {"type": "django_site", "files": {"type": "directory", "path": "new"},
                        "database": {"type": "directory", "path": "x"}}}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == {"source.files.path", "destination.database.type"}


# --- The state machine ---------------------------------------------------------------------------------------------

def test_start_is_202_queued_with_a_job(user_client, run, handed_over):
    response = user_client.post(f"/api/v1/migrations/{run.session_id}/start")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "started" and body["job"] == Job.objects.get().pk
    assert Job.objects.get().params == {"session_id": run.session_id}


@pytest.mark.parametrize("status", ["started", "running", "rollback_started"])
def test_starting_a_busy_migration_is_409(user_client, run, status):
    MigrationRun.objects.filter(pk=run.pk).update(status=status)

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/start")

    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert not Job.objects.exists()


def test_rollback_without_a_backup_is_409(user_client, run):
    MigrationRun.objects.filter(pk=run.pk).update(status="completed", backup=None)

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/rollback")

    assert response.status_code == 409
    assert "no backup" in response.json()["error"]["message"]


def test_cancelling_a_finished_migration_is_409(user_client, run):
    MigrationRun.objects.filter(pk=run.pk).update(status="completed")

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/cancel")

    assert response.status_code == 409


def test_cancelling_a_queued_migration_cancels_it_and_its_job(user_client, run):
    user_client.post(f"/api/v1/migrations/{run.session_id}/start")

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Job.objects.get().status == "cancelled"


def test_the_tenants_concurrent_migration_limit_holds(user_client, user, tenant, plan, run):
    tenant_policies_set(tenant=tenant, max_concurrent_migrations=1)
    second = create_run(user_client, name="Second", **plan)
    assert user_client.post(f"/api/v1/migrations/{run.session_id}/start").status_code == 202

    response = user_client.post(f"/api/v1/migrations/{second['session_id']}/start")

    assert response.status_code == 409
    assert "limit" in response.json()["error"]["message"]
    assert MigrationRun.objects.get(session_id=second["session_id"]).status == "pending"


def test_two_concurrent_starts_cannot_both_win(transactional_db, user, tenant, allowed, plan):
    from apps.migrations_app.services import migration_create

    run = migration_create(tenant=tenant, created_by=user, name="Race", **plan)
    barrier, statuses = threading.Barrier(2), []

    def start():
        try:
            client = client_for(user, tenant)
            barrier.wait()
            statuses.append(client.post(f"/api/v1/migrations/{run.session_id}/start").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [202, 409]
    assert Job.objects.count() == 1


def test_two_concurrent_starts_of_different_runs_cannot_pass_a_limit_of_one(transactional_db, user, tenant, allowed,
                                                                           plan):
    from apps.migrations_app.services import migration_create

    tenant_policies_set(tenant=tenant, max_concurrent_migrations=1)
    runs = [migration_create(tenant=tenant, created_by=user, name=f"Race {n}", **plan) for n in range(2)]
    barrier, statuses = threading.Barrier(2), []

    def start(run):
        try:
            client = client_for(user, tenant)
            barrier.wait()
            statuses.append(client.post(f"/api/v1/migrations/{run.session_id}/start").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [202, 409]
    assert MigrationRun.objects.filter(status="started").count() == 1


# --- Status, metrics, logs of a run that never ran -----------------------------------------------------------------

def test_status_and_metrics_of_a_new_run(user_client, run):
    status = user_client.get(f"/api/v1/migrations/{run.session_id}/status").json()
    metrics = user_client.get(f"/api/v1/migrations/{run.session_id}/metrics").json()
    logs = user_client.get(f"/api/v1/migrations/{run.session_id}/logs").json()

    assert status == {"session_id": run.session_id, "status": "pending", "progress": 0.0, "current_step": "",
                      "start_time": None, "end_time": None, "duration": None, "error": None,
                      "steps_completed": 0, "steps_total": 0, "current_operation": None,
                      "performance_metrics": {"transfer_rate_current": None, "transfer_rate_average": None,
                                              "files_transferred": 0, "files_total": 0, "data_transferred": "0 B",
                                              "data_total": "0 B"}}
    assert metrics == {"session_id": run.session_id, "metrics": {
        "overall": {"duration": None, "progress": 0.0, "estimated_remaining": None},
        "transfer": {"rate_current": None, "rate_average": None, "rate_peak": None, "bytes_transferred": 0,
                     "bytes_total": 0, "files_transferred": 0, "files_total": 0},
        "database": {"tables_migrated": None, "tables_total": None, "rows_migrated": 0, "rows_total": 0,
                     "data_size": "0 B"},
        "system": {"cpu_usage": None, "memory_usage": None, "disk_usage": None, "network_usage": None},
        "errors": {"total_errors": 0, "total_warnings": 0, "retry_count": 0}, "parts": {}}}
    assert logs == {"session_id": run.session_id, "logs": [], "total_logs": 0, "has_more": False}


def test_list_filters_by_status(user_client, run, plan):
    create_run(user_client, name="Other", **plan)
    MigrationRun.objects.filter(pk=run.pk).update(status="failed")

    response = user_client.get("/api/v1/migrations/", {"status": "failed"})

    assert [item["session_id"] for item in response.json()["results"]] == [run.session_id]


# --- Validate and the system catalogue -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/migrations/validate", "/api/v1/validate/"])
def test_validate_reports_the_checks_without_moving_anything(user_client, plan, allowed, path):
    response = user_client.post(path, plan, format="json")

    assert response.status_code == 200, response.content
    report = response.json()
    assert set(report) >= {"valid", "checks_performed", "checks_passed", "checks_failed", "warnings", "errors",
                           "can_proceed", "estimated_duration"}
    assert report["valid"] is report["can_proceed"] is True
    assert report["errors"] == [] and report["checks_failed"] == len(report["warnings"])
    assert {"confinement", "exists", "readable", "writable", "main: free space"} <= set(report["checks"])
    assert report["checks_passed"] + report["checks_failed"] == report["checks_performed"] == len(report["checks"])
    assert report["estimated_seconds"] > 0 and report["measured_bytes"] > 0
    assert report["estimated_duration"] == "less than a minute"
    assert not (allowed / "destination").exists() and not MigrationRun.objects.exists()


def test_validate_reports_an_unreachable_database_as_an_error(user_client, allowed, settings):
    # Reachability is reported only for allow-listed servers: this one is listed, and nothing listens there.
    servers = [*migrations_settings.ALLOWED_DB_HOSTS, "127.0.0.1:1"]
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": servers,
                                   "ALLOW_PASSWORDLESS": servers}
    response = user_client.post("/api/v1/migrations/validate", {
        "source": {"type": "sqlite", "path": "missing.sqlite3"}, "destination": postgresql_config("x", port=1)},
        format="json")

    report = response.json()
    assert response.status_code == 200
    assert report["valid"] is report["can_proceed"] is False
    assert len(report["errors"]) == 2 and report["estimated_duration"] is None


def test_validate_with_a_bad_config_is_400_naming_the_field(user_client, plan):
    response = user_client.post("/api/v1/validate/", {**plan, "source": {"type": "directory", "path": "/etc"}},
                                format="json")

    assert response.status_code == 400 and error_fields(response) == {"source.path"}


def test_system_types_lists_every_adapter_and_site_kind(user_client):
    response = user_client.get("/api/v1/system/types")

    types = {entry["type"]: entry for entry in response.json()["types"]}
    assert response.status_code == 200
    assert set(types) == set(response.json()["system_types"]) == {
        "directory", "sqlite", "postgresql", "mysql", "static_site", "django_site", "wordpress_site"}
    assert response.json()["database_types"] == ["mysql", "postgresql", "sqlite"]
    assert response.json()["transfer_methods"] == ["hybrid_sync", "rsync"]
    assert types["postgresql"]["secret_fields"] == ["password"] and types["postgresql"]["kind"] == "database"
    assert "path" in types["directory"]["config_schema"]["properties"]
    assert types["django_site"]["parts"] == {"files": "files", "database": "database"}


def test_system_modules_lists_the_transfer_modules(user_client):
    response = user_client.get("/api/v1/system/modules")

    modules = {entry["module"]: entry for entry in response.json()}
    assert response.status_code == 200
    assert modules["files"]["types"] == ["directory"]
    assert set(modules["database"]["types"]) == {"sqlite", "postgresql", "mysql"}


# --- Batch ---------------------------------------------------------------------------------------------------------

def test_a_batch_is_created_all_together(user_client, plan):
    response = user_client.post("/api/v1/migrations/batch", {"migrations": [{"name": "One", **plan},
                                                                       {"name": "Two", **plan}]}, format="json")

    assert response.status_code == 201
    assert [item["status"] for item in response.json()] == ["pending", "pending"]
    assert MigrationRun.objects.count() == 2


def test_a_batch_with_one_bad_item_creates_nothing_and_names_the_item(user_client, plan):
    response = user_client.post("/api/v1/migrations/batch", {"migrations": [
        {"name": "Good", **plan},
        {"name": "Bad", **plan, "destination": {"type": "postgresql", "host": "evil.example", "database": "d",
                                                "username": "u"}},
        {"name": "Worse", **plan, "transfer": {"options": {"parallel_transfers": 0}}}]}, format="json")

    assert response.status_code == 400
    assert error_fields(response) == {"migrations.1.destination.host", "migrations.2.transfer.options.parallel_transfers"}
    assert not MigrationRun.objects.exists() and not Job.objects.exists()


def test_a_batch_with_start_queues_every_migration(user_client, plan, handed_over):
    response = user_client.post("/api/v1/migrations/batch", {"migrations": [{"name": "One", **plan},
                                                                       {"name": "Two", **plan}], "start": True},
                                format="json")

    assert response.status_code == 201
    assert [item["status"] for item in response.json()] == ["started", "started"]
    assert Job.objects.filter(type="migrations.run").count() == 2


def test_a_batch_that_would_pass_the_limit_creates_nothing(user_client, tenant, plan):
    tenant_policies_set(tenant=tenant, max_concurrent_migrations=1)

    response = user_client.post("/api/v1/migrations/batch", {"migrations": [{"name": "One", **plan},
                                                                       {"name": "Two", **plan}], "start": True},
                                format="json")

    assert response.status_code == 409
    assert not MigrationRun.objects.exists() and not Job.objects.exists()


# --- Schedule ------------------------------------------------------------------------------------------------------

def test_scheduling_in_the_future_is_202_scheduled_with_a_schedule(user_client, run):
    run_at = timezone.now() + timedelta(hours=1)

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/schedule", {"run_at": run_at.isoformat()},
                                format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["scheduled_for"] is not None
    assert Schedule.objects.get(name=f"migration-{run.pk}-start").next_run == run_at


def test_scheduling_in_the_past_is_400_on_run_at(user_client, run):
    response = user_client.post(f"/api/v1/migrations/{run.session_id}/schedule",
                                {"run_at": (timezone.now() - timedelta(minutes=1)).isoformat()}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"run_at"}
    assert not Schedule.objects.filter(name__startswith="migration-").exists()


def test_cancelling_a_scheduled_migration_removes_its_schedule(user_client, run):
    user_client.post(f"/api/v1/migrations/{run.session_id}/schedule",
                     {"run_at": (timezone.now() + timedelta(hours=1)).isoformat()}, format="json")

    response = user_client.post(f"/api/v1/migrations/{run.session_id}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert not Schedule.objects.filter(name__startswith="migration-").exists()


def test_a_scheduled_migration_starts_when_the_scheduler_calls_it(user, run, handed_over):
    from apps.migrations_app.services import migration_schedule, migration_start_scheduled

    migration_schedule(run, run_at=timezone.now() + timedelta(minutes=5), scheduled_by=user)

    migration_start_scheduled(run.pk, user_id=user.pk)

    run.refresh_from_db()
    assert run.status == "started" and run.job is not None and run.scheduled_for is None


# --- Who may do what -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona, method, action, expected", [
    ("viewer_client", "post", "start", 403),
    ("viewer_client", "post", "cancel", 403),
    ("viewer_client", "post", "rollback", 403),
    ("viewer_client", "post", "schedule", 403),
    ("second_user_client", "post", "start", 403),   # a member runs their own migrations, not a teammate's
    ("second_user_client", "post", "cancel", 403),
    ("second_user_client", "post", "rollback", 403),
    ("second_user_client", "delete", "", 403),
    ("viewer_client", "delete", "", 403),
    ("other_tenant_client", "get", "status", 404),
    ("other_tenant_client", "get", "metrics", 404),
    ("other_tenant_client", "post", "start", 404),
    ("other_tenant_client", "post", "rollback", 404),
    ("anon_client", "get", "status", 401),
])
def test_permission_matrix_on_a_run(request, run, persona, method, action, expected):
    client = request.getfixturevalue(persona)

    response = getattr(client, method)(f"/api/v1/migrations/{run.session_id}/{action}", {}, format="json")

    assert response.status_code == expected, response.content
    run.refresh_from_db()
    assert run.status == "pending" and run.job is None


def test_a_viewer_cannot_create_a_migration(viewer_client, plan):
    response = viewer_client.post("/api/v1/migrations/", {"name": "No", **plan}, format="json")

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert not MigrationRun.objects.exists()


def test_the_list_shows_only_the_callers_tenant(user_client, run, other_tenant_run):
    response = user_client.get("/api/v1/migrations/")

    assert [item["session_id"] for item in response.json()["results"]] == [run.session_id]
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("persona", ["viewer_client", "second_user_client", "admin_client"])
def test_everyone_in_the_tenant_reads_its_migrations(request, run, persona):
    client = request.getfixturevalue(persona)

    listed = client.get("/api/v1/migrations/").json()["results"]
    reads = [client.get(f"/api/v1/migrations/{run.session_id}/{path}") for path in ("", "status", "logs", "metrics")]

    assert [item["session_id"] for item in listed] == [run.session_id]
    assert [response.status_code for response in reads] == [200, 200, 200, 200]


def test_a_member_runs_their_own_migrations_and_owners_and_platform_admins_run_all(
        second_user_client, user_client, admin_client, plan):
    theirs = create_run(second_user_client, name="A member's", **plan)["session_id"]

    own_start = second_user_client.post(f"/api/v1/migrations/{theirs}/start")
    owner_cancel = user_client.post(f"/api/v1/migrations/{theirs}/cancel")
    admin_start = admin_client.post(f"/api/v1/migrations/{theirs}/start")

    assert own_start.status_code == 202 and own_start.json()["status"] == "started"
    assert owner_cancel.status_code == 200 and owner_cancel.json()["status"] == "cancelled"
    assert admin_start.status_code == 202
    assert [job.created_by.email for job in Job.objects.order_by("pk")] == ["second@example.com",
                                                                            "admin@example.com"]


def test_deleting_a_migration_needs_migrations_delete_and_a_finished_run(user_client, run):
    MigrationRun.objects.filter(pk=run.pk).update(status="running")
    busy = user_client.delete(f"/api/v1/migrations/{run.session_id}/")
    MigrationRun.objects.filter(pk=run.pk).update(status="completed")
    deleted = user_client.delete(f"/api/v1/migrations/{run.session_id}/")

    assert busy.status_code == 409 and deleted.status_code == 204
    assert not MigrationRun.objects.exists() and not MigrationLog.objects.exists()


def test_the_database_host_error_does_not_echo_other_hosts(user_client):
    response = user_client.post("/api/v1/migrations/validate", {
        "source": {"type": "mysql", "host": "10.0.0.1", "database": "d", "username": "u"},
        "destination": postgresql_config("x")}, format="json")

    assert response.status_code == 400
    assert HOST not in str(response.json()["error"]["details"])


def test_validate_warns_about_destination_tables_the_copy_would_replace(user_client, allowed, scratch_postgresql):
    source = allowed / "app.sqlite3"
    with closing(sqlite3.connect(source)) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        connection.commit()
    target = scratch_postgresql()
    with closing(psycopg.connect(host="127.0.0.1", user="postgres", dbname=target, autocommit=True)) as connection:
        connection.execute("CREATE TABLE items (id integer PRIMARY KEY)")

    report = user_client.post("/api/v1/migrations/validate", {
        "source": {"type": "sqlite", "path": str(source)}, "destination": postgresql_config(target)},
        format="json").json()

    assert report["can_proceed"] is True
    assert "conflicts" in report["checks"]
    assert any("Replaces 1 existing destination tables: items" in warning for warning in report["warnings"])


def started(client, run) -> Job:
    assert client.post(f"/api/v1/migrations/{run.session_id}/start").status_code == 202
    return MigrationRun.objects.get(pk=run.pk).job


def test_a_migration_whose_worker_died_ends_failed_with_the_reason_when_the_reaper_fails_its_job(user_client, run):
    job = started(user_client, run)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, heartbeat_at=timezone.now() - timedelta(
        minutes=5))
    MigrationRun.objects.filter(pk=run.pk).update(status="running")

    jobs_reap_stale()
    status = user_client.get(f"/api/v1/migrations/{run.session_id}/status").json()

    assert status["status"] == "failed" and "no heartbeat" in status["error"]
    assert MigrationLog.objects.filter(run=run, level="ERROR", message__contains="no heartbeat").exists()
    assert not Schedule.objects.filter(name="tessera.migrations.reconcile-with-jobs").exists()  # nothing polls


def test_a_migration_whose_queued_job_is_cancelled_through_the_jobs_api_ends_cancelled(user_client, run):
    job = started(user_client, run)

    user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert user_client.get(f"/api/v1/migrations/{run.session_id}/status").json()["status"] == "cancelled"


def test_a_rollback_whose_job_died_fails_and_keeps_the_backup_to_try_again(user_client, run):
    backup = {"id": "backup-1", "taken_at": "2026-01-01T00:00:00+00:00", "parts": {"main": {"kind": "files"}}}
    MigrationRun.objects.filter(pk=run.pk).update(status="completed", backup=backup)
    assert user_client.post(f"/api/v1/migrations/{run.session_id}/rollback").status_code == 202
    job = MigrationRun.objects.get(pk=run.pk).job
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, heartbeat_at=timezone.now() - timedelta(
        minutes=5))

    jobs_reap_stale()

    run.refresh_from_db()
    assert (run.status, run.backup) == ("failed", backup)
    assert "no heartbeat" in run.error