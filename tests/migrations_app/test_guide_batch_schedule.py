"""The guide's advanced verbs with its own bodies: a batch of `migrations` run by `batch_options`, and a schedule by
`schedule_type`, `scheduled_time`, `timezone` and `auto_start`; a value this deployment cannot honour is a 400
naming it, never accepted and dropped."""
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.jobs.models import Job
from apps.migrations_app import batches
from apps.migrations_app.models import MigrationLog, MigrationRun
from tests.conftest import client_for
from tests.workers import wait_for

from .conftest import build_tree, checksums

pytestmark = pytest.mark.django_db


def side(path) -> dict:
    return {"type": "directory", "path": str(path)}


@pytest.fixture
def plans(allowed):
    made = []
    for name in ("one", "two"):
        build_tree(allowed / name / "source", files=3)
        made.append({"name": f"Site {name}", "source": side(allowed / name / "source"),
                     "destination": side(allowed / name / "destination")})
    return made



@pytest.fixture
def session_id(guide_client, plans):
    response = guide_client.post("/migrations/", plans[0], format="json")
    assert response.status_code == 201, response.content
    return response.json()["session_id"]


# --- Schedule ----------------------------------------------------------------------------------------------------

def test_the_guides_schedule_body_schedules_one_start(guide_client, session_id):
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

    response = guide_client.post(f"/migrations/{session_id}/schedule", {
        "schedule_type": "datetime", "scheduled_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "timezone": "UTC",
        "auto_start": True}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["session_id"] == session_id
    assert MigrationRun.objects.get(session_id=session_id).scheduled_for == when


def test_a_scheduled_time_without_an_offset_is_read_in_the_timezone(guide_client, session_id):
    local = datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None, microsecond=0) + timedelta(days=2)

    response = guide_client.post(f"/migrations/{session_id}/schedule", {
        "schedule_type": "datetime", "scheduled_time": local.isoformat(), "timezone": "Asia/Tokyo"}, format="json")

    assert response.status_code == 202, response.content
    assert MigrationRun.objects.get(session_id=session_id).scheduled_for == local.replace(tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.mark.parametrize("change, field", [
    ({"schedule_type": "cron"}, "schedule_type"),
    ({"auto_start": False}, "auto_start"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"scheduled_time": "tomorrow at two"}, "scheduled_time"),
    ({"scheduled_time": "2020-01-01T02:00:00Z"}, "scheduled_time"),
    ({"notifications": {"before_start": "1h", "on_completion": True}}, "notifications"),
    ({"recurrence": "daily"}, "recurrence"),
])
def test_a_schedule_this_deployment_cannot_honour_is_400_naming_the_field(guide_client, session_id, change, field):
    body = {"schedule_type": "datetime", "scheduled_time": (timezone.now() + timedelta(days=1)).isoformat(),
            "timezone": "UTC", "auto_start": True, **change}

    response = guide_client.post(f"/migrations/{session_id}/schedule", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert MigrationRun.objects.get(session_id=session_id).scheduled_for is None


# --- Batch -------------------------------------------------------------------------------------------------------

def test_the_guides_batch_body_creates_every_migration_and_answers_receipts(guide_client, plans):
    response = guide_client.post("/migrations/batch", {"migrations": plans}, format="json")

    assert response.status_code == 201, response.content
    receipts = response.json()
    assert [set(receipt) for receipt in receipts] == [{"session_id", "status", "message", "created_at"}] * 2
    assert {receipt["status"] for receipt in receipts} == {"pending"}
    assert MigrationRun.objects.count() == 2


def test_a_batch_with_one_invalid_migration_creates_nothing_and_names_it(guide_client, plans):
    plans[1]["source"] = {"type": "teleport"}

    response = guide_client.post("/migrations/batch", {"migrations": plans}, format="json")

    assert response.status_code == 400
    assert "migrations.1.source.type" in response.json()["error"]["details"]
    assert not MigrationRun.objects.exists()


@pytest.mark.parametrize("options, field", [({"parallel_limit": 0}, "batch_options"),
                                            ({"parallel_lmit": 2}, "batch_options"),
                                            ({"stop_on_failure": "sometimes"}, "batch_options")])
def test_batch_options_out_of_shape_are_400_naming_them(guide_client, plans, options, field):
    response = guide_client.post("/migrations/batch", {"migrations": plans, "batch_options": options}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not MigrationRun.objects.exists()


def test_a_batch_with_a_parallel_limit_starts_that_many_now(guide_client, plans, handed_over):
    response = guide_client.post("/migrations/batch", {
        "migrations": plans, "batch_options": {"parallel_limit": 1, "stop_on_failure": False}}, format="json")

    assert response.status_code == 201, response.content
    assert [receipt["status"] for receipt in response.json()] == ["started", "pending"]
    assert Job.objects.filter(type="migrations.batch").count() == 1


def test_a_batch_runs_one_at_a_time_to_completed_with_a_limit_of_one(workers, user, plans):
    client = client_for(user)

    response = client.post("/migrations/batch", {
        "migrations": plans, "batch_options": {"parallel_limit": 1, "stop_on_failure": False}}, format="json")
    session_ids = [receipt["session_id"] for receipt in response.json()]
    runs = wait_for(lambda: (found := list(MigrationRun.objects.filter(session_id__in=session_ids)
                                           .order_by("started_at")))
                    and all(run.status == "completed" for run in found) and found,
                    timeout=90, interval=0.2, what="both migrations of the batch to complete")

    assert runs[1].started_at >= runs[0].finished_at
    for plan in plans:
        assert checksums(Path(plan["destination"]["path"])) == checksums(Path(plan["source"]["path"]))


@pytest.mark.parametrize("stop_on_failure, second_status", [(True, "pending"), (False, "started")])
def test_a_failure_stops_the_batch_only_when_asked(user, tenant, plans, handed_over, stop_on_failure,
                                                   second_status):
    runs = batches.migration_batch(tenant=tenant, created_by=user, migrations=plans,
                                   batch_options={"parallel_limit": 1, "stop_on_failure": stop_on_failure})
    MigrationRun.objects.filter(pk=runs[0].pk).update(status="failed")

    finished, total, done = batches.batch_advance([run.session_id for run in runs], parallel_limit=1,
                                                  stop_on_failure=stop_on_failure, started_by=user)

    assert (finished, total, done) == (1, 2, True)
    assert MigrationRun.objects.get(pk=runs[1].pk).status == second_status
    assert MigrationLog.objects.filter(run=runs[1], level="WARNING").exists() == stop_on_failure


def test_the_coordinator_waits_while_the_limit_is_reached(user, tenant, plans, handed_over):
    runs = batches.migration_batch(tenant=tenant, created_by=user, migrations=plans,
                                   batch_options={"parallel_limit": 1})

    result = batches.batch_advance([run.session_id for run in runs], parallel_limit=1, stop_on_failure=False,
                                   started_by=user)

    assert result == (0, 2, False)
    assert MigrationRun.objects.get(pk=runs[1].pk).status == "pending"
