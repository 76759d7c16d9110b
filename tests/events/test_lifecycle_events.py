"""Jobs and migrations announce each state they reach (job.*, migration.*), written by the worker that moves them."""
from apps.events.models import Event
from apps.jobs.models import Job
from tests.jobs.conftest import run_to_the_end
from tests.migrations_app.conftest import allowed, build_tree, create_run, wait_until  # noqa: F401 (fixture)


def types_of(resource: str) -> list[str]:
    return list(Event.objects.filter(resource=resource).order_by("occurred_at").values_list("type", flat=True))


def test_a_job_announces_queued_running_and_succeeded_with_its_row(workers, user_client, user, tenant):
    job = run_to_the_end(user_client, "jobs.probe", {"seconds": 0})

    finished = Event.objects.get(type="job.succeeded")
    assert job.status == Job.Status.SUCCEEDED
    assert types_of("jobs") == ["job.queued", "job.running", "job.succeeded"]
    assert (finished.data["id"], finished.data["status"]) == (job.pk, "succeeded")
    assert (finished.tenant_id, finished.owner_id) == (tenant.pk, user.pk)


def test_a_migration_announces_created_started_start_running_progress_and_completed(workers, user_client, allowed):
    source, destination = allowed / "source", allowed / "destination"
    build_tree(source)
    run = create_run(user_client, source={"type": "directory", "path": str(source)},
                     destination={"type": "directory", "path": str(destination)})

    user_client.post(f"/api/v1/migrations/{run['session_id']}/start")
    wait_until(user_client, run["session_id"])

    types = types_of("migrations")
    # The start action answers `started` (the guide's word), announced by the transition before the action itself.
    assert types[:3] == ["migration.created", "migration.started", "migration.start"]
    assert "migration.running" in types and "migration.progress" in types
    assert types[-1] == "migration.completed"
    assert Event.objects.get(type="migration.completed").data["progress"] == 100
