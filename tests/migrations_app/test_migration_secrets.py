"""Credentials given in a migration config: accepted, stored encrypted, and absent from every response, log line,
stored log entry, admin page and the schema, on the web side and in the workers."""
import logging
import sqlite3
from contextlib import closing

import pytest

from apps.jobs.models import Job, JobLog
from apps.migrations_app import credentials
from apps.migrations_app.models import MigrationLog, MigrationRun, Preset
from apps.migrations_app.services import migration_start, run_config

from .conftest import SECRET, create_run, mysql_config, postgresql_config, wait_until


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def config_with_password(allowed, database="app") -> dict:
    return {"source": {"type": "sqlite", "path": str(allowed / "app.sqlite3")},
            "destination": postgresql_config(database, password=SECRET)}


def make_source(allowed) -> None:
    """The SQLite source of `config_with_password`, with one table of one row."""
    with closing(sqlite3.connect(allowed / "app.sqlite3")) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'one')")
        conn.commit()


def stored_text(run: MigrationRun) -> str:
    """Every stored trace of the run: its row (but the sealed column), its log, its job and the job's log."""
    row = {field.name: getattr(run, field.attname) for field in MigrationRun._meta.fields if field.name != "secrets"}
    traces = [repr(row), *MigrationLog.objects.filter(run=run).values_list("message", flat=True)]
    for job in Job.objects.all():
        traces += [repr(job.params), repr(job.result), job.error, job.message, job.step]
        traces += list(JobLog.objects.filter(job=job).values_list("message", flat=True))
    return "\n".join(traces)


def test_the_secret_is_sealed_at_rest_and_only_the_engine_sees_it(user_client, allowed):
    body = create_run(user_client, **config_with_password(allowed))

    run = MigrationRun.objects.get(session_id=body["session_id"])
    assert run.destination["password"] == credentials.REDACTED
    assert run.secrets and SECRET not in run.secrets
    assert credentials.unseal(run.secrets) == {"source": {}, "destination": {"password": SECRET}}
    assert run_config(run)["destination"]["password"] == SECRET


def test_no_response_or_web_log_line_carries_the_secret(user_client, user, tenant, allowed, caplog, staff_client,
                                                        scratch_postgresql):
    caplog.set_level(logging.DEBUG)
    preset = Preset.objects.get(tenant=None, slug="sqlite-to-postgresql")
    make_source(allowed)
    plan = config_with_password(allowed, scratch_postgresql())
    # Its destination database does not exist: the start's checks refuse it, and their answer names no secret.
    unreachable = create_run(user_client, name="No such database", **config_with_password(allowed, "no_such_db"))

    responses = [user_client.post("/api/v1/migrations/", {"name": "Secret", **plan}, format="json")]
    run_id = responses[0].json()["session_id"]
    responses += [
        user_client.get(f"/api/v1/migrations/{run_id}/"),
        user_client.get("/api/v1/migrations/"),
        user_client.get(f"/api/v1/migrations/{run_id}/status"),
        user_client.post(f"/api/v1/migrations/{run_id}/start"),
        user_client.get(f"/api/v1/migrations/{run_id}/logs"),
        user_client.get(f"/api/v1/migrations/{run_id}/metrics"),
        user_client.post(f"/api/v1/migrations/{run_id}/cancel"),
        user_client.post("/api/v1/migrations/batch", {"migrations": [{"name": "In a batch", **plan}]}, format="json"),
        user_client.post("/api/v1/migrations/batch", {"migrations": [
            {"name": "Bad batch", **plan, "source": {"type": "directory", "path": "/etc"}}]}, format="json"),
        user_client.post(f"/api/v1/presets/{preset.slug}/create-migration",
                         {"overrides": {"destination.password": SECRET}}, format="json"),
        user_client.post("/api/v1/presets/", {"slug": "p", "name": "P", "config_template": plan}, format="json"),
        user_client.post("/api/v1/migrations/validate", plan, format="json"),
        user_client.post("/api/v1/migrations/", {"name": "Refused", **plan, "source": {"type": "teleport"}},
                         format="json"),
        user_client.get("/api/schema/"),
        staff_client.get("/admin/migrations_app/migrationrun/"),
        staff_client.get(f"/admin/migrations_app/migrationrun/{MigrationRun.objects.get(session_id=run_id).pk}"
                         "/change/"),
        staff_client.get("/admin/migrations_app/preset/"),
        staff_client.get("/admin/jobs/job/"),
        user_client.post(f"/api/v1/migrations/{unreachable['session_id']}/start"),
    ]

    assert [response.status_code for response in responses] == [201, 200, 200, 200, 202, 200, 200, 200, 201, 400,
                                                                 201, 201, 200, 400, 200, 200, 200, 200, 200, 422]
    for response in responses:
        assert SECRET not in response.content.decode(), response.request["PATH_INFO"]
    assert credentials.REDACTED in responses[0].content.decode()
    assert SECRET not in caplog.text
    for run in MigrationRun.objects.all():
        assert SECRET not in stored_text(run)


def test_the_workers_never_log_or_store_the_secret(workers, user, user_client, allowed, scratch_postgresql,
                                                   scratch_mariadb):
    make_source(allowed)
    succeeding = create_run(user_client, name="Trusted", **config_with_password(allowed, scratch_postgresql()))
    # MariaDB checks the password: this one is wrong, so the run fails on connecting, in our words, not the driver's.
    failing = create_run(user_client, name="Refused", source=mysql_config(scratch_mariadb(), password=SECRET),
                         destination=postgresql_config("unused"))
    start_of_output = len(workers.output())

    assert user_client.post(f"/api/v1/migrations/{succeeding['session_id']}/start").status_code == 202
    refused = user_client.post(f"/api/v1/migrations/{failing['session_id']}/start")
    # The start's checks refuse it first; started where no one waits for that answer (a schedule, a batch), the
    # worker meets the same refusal.
    migration_start(MigrationRun.objects.get(session_id=failing["session_id"]), started_by=user, check=False)
    outcomes = [wait_until(user_client, run["session_id"]) for run in (succeeding, failing)]
    logs = [user_client.get(f"/api/v1/migrations/{run['session_id']}/logs").content.decode()
            for run in (succeeding, failing)]

    assert refused.status_code == 422 and SECRET not in refused.content.decode()
    refusal = refused.json()["error"]["details"]["failed_checks"][0]["error"]
    assert "authentication failed" in refusal and "Access denied" not in refusal
    assert [outcome["status"] for outcome in outcomes] == ["completed", "failed"]
    assert "authentication failed" in outcomes[1]["error"] and "Access denied" not in outcomes[1]["error"]
    assert all(SECRET not in text for text in logs)
    assert SECRET not in workers.output()[start_of_output:]
    for run in MigrationRun.objects.all():
        assert SECRET not in stored_text(run)
