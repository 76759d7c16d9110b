"""Starting a migration runs the checks POST /validate/ runs, against the real systems, first: a failing one refuses
the start with 422 (`unprocessable`; the guide's `VALIDATION_FAILED`, "Pre-migration validation failed") listing
`failed_checks: [{check, error, suggestion}]`, and nothing starts or is written. /validate/ keeps answering its
report for the same plan."""
import socket

import pytest

from apps.events.models import Event
from apps.jobs.models import Job
from apps.migrations_app.models import MigrationLog, MigrationRun

from .conftest import HOST, create_run, postgresql_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port(allowed, settings) -> int:
    """A local port nothing listens on, allowed as a database server (password-less), so only reaching it fails."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    servers = [*settings.TESSERA_MIGRATIONS["ALLOWED_DB_HOSTS"], f"{HOST}:{port}"]
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": servers,
                                   "ALLOW_PASSWORDLESS": servers}
    return port


@pytest.fixture
def unreachable_plan(closed_port, scratch_postgresql) -> dict:
    """A PostgreSQL source at the closed port, into a real scratch database."""
    return {"source": postgresql_config("app", port=closed_port),
            "destination": postgresql_config(scratch_postgresql())}


def nothing_started(session_id: str) -> bool:
    run = MigrationRun.objects.get(session_id=session_id)
    return (run.status == "pending" and run.job is None and not Job.objects.exists()
            and not MigrationLog.objects.filter(run=run).exists()
            and not Event.objects.filter(type="migration.started").exists())


def test_an_unreachable_source_refuses_the_start_with_422_listing_the_failed_check(user_client, unreachable_plan):
    run = create_run(user_client, **unreachable_plan)

    response = user_client.post(f"/api/v1/migrations/{run['session_id']}/start")

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("unprocessable", "Pre-migration validation failed")
    [failed] = error["details"]["failed_checks"]
    assert failed["check"] == "source_connectivity"
    assert "refused" in failed["error"].lower() or "connect" in failed["error"].lower()
    assert "host, port" in failed["suggestion"]
    assert nothing_started(run["session_id"])


def test_on_the_guides_path_the_refusal_is_validation_failed(guide_client, user_client, unreachable_plan):
    run = create_run(user_client, **unreachable_plan)

    response = guide_client.post(f"/migrations/{run['session_id']}/start", {"auto_rollback": True}, format="json")

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("VALIDATION_FAILED", "Pre-migration validation failed")
    assert [failed["check"] for failed in error["details"]["failed_checks"]] == ["source_connectivity"]
    assert set(error["details"]["failed_checks"][0]) == {"check", "error", "suggestion"}
    assert error["timestamp"] and error["request_id"]
    assert nothing_started(run["session_id"])


def test_validate_still_answers_its_report_for_the_same_plan(guide_client, unreachable_plan):
    response = guide_client.post("/validate/", unreachable_plan, format="json")

    assert response.status_code == 200
    assert response.json()["can_proceed"] is False and len(response.json()["errors"]) == 1


def test_a_destination_that_cannot_be_written_is_named_as_the_destinations(user_client, plan, allowed):
    (allowed / "destination").write_text("a file where the destination directory should be\n")
    run = create_run(user_client, **plan)

    response = user_client.post(f"/api/v1/migrations/{run['session_id']}/start")

    assert response.status_code == 422
    [failed] = response.json()["error"]["details"]["failed_checks"]
    assert failed["check"] == "destination_permissions" and "not a directory" in failed["error"]
    assert "write at the destination" in failed["suggestion"]
    assert nothing_started(run["session_id"])


@pytest.mark.parametrize("path", ["/api/v1/migrations/{}/start", "/migrations/{}/start"])
def test_a_plan_whose_checks_pass_starts(user_client, guide_client, plan, handed_over, path):
    run = create_run(user_client, **plan)

    response = (guide_client if path.startswith("/migrations") else user_client).post(path.format(run["session_id"]))

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "started"
    assert MigrationRun.objects.get(session_id=run["session_id"]).job == Job.objects.get()


def test_a_busy_migration_is_a_conflict_before_anything_is_checked(guide_client, user_client, unreachable_plan):
    run = create_run(user_client, **unreachable_plan)
    MigrationRun.objects.filter(session_id=run["session_id"]).update(status="running")

    response = guide_client.post(f"/migrations/{run['session_id']}/start")

    assert response.status_code == 409 and response.json()["error"]["code"] == "MIGRATION_ALREADY_RUNNING"


def test_openapi_documents_the_refusal_on_both_surfaces():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path in ("/api/v1/migrations/{session_id}/start/", "/migrations/{session_id}/start/"):
        refusal = schema["paths"][path]["post"]["responses"]["422"]
        assert "Pre-migration validation failed" in refusal["description"]
        typed = refusal["content"]["application/json"]["schema"]["allOf"][1]
        assert typed["properties"]["error"]["properties"]["details"]["$ref"].endswith("/PreflightRefusal")
    failed_check = schema["components"]["schemas"]["FailedCheck"]
    assert set(failed_check["properties"]) == {"check", "error", "suggestion"}
