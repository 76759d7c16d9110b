"""The operator console for migrations: runs with status, progress and their log inline, cancel and rollback."""
import pytest

from apps.jobs.models import Job
from apps.migrations_app.models import MigrationRun
from apps.migrations_app.services import migration_create, migration_log, migration_start

from .conftest import SECRET, postgresql_config

CHANGELIST = "/admin/migrations_app/migrationrun/"


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def run(tenant, user, allowed):
    run = migration_create(tenant=tenant, created_by=user, name="Move the shop",
                           source={"type": "sqlite", "path": "shop.sqlite3"},
                           destination=postgresql_config("shop", password=SECRET))
    migration_log(run, "warning", "Half-way there", step="main: copying")
    return run


def test_the_change_page_shows_status_progress_and_the_log_inline_but_no_credentials(staff_client, run):
    job = Job.objects.create(tenant=run.tenant, created_by=run.created_by, type="migrations.run", progress=42,
                             step="main: copying files")
    MigrationRun.objects.filter(pk=run.pk).update(status="running", job=job)

    page = staff_client.get(f"{CHANGELIST}{run.pk}/change/").content.decode()

    assert "Running" in page and "42" in page and "main: copying files" in page and "Half-way there" in page
    assert SECRET not in page and run.secrets not in page and 'name="secrets"' not in page


def test_the_list_shows_each_run_with_its_status(staff_client, run):
    page = staff_client.get(CHANGELIST).content.decode()

    assert "Move the shop" in page and "Pending" in page and SECRET not in page


def test_the_cancel_action_cancels_a_queued_run(staff_client, run):
    migration_start(run, started_by=run.created_by, check=False)  # queued as a schedule would: no source needed

    response = staff_client.post(CHANGELIST, {"action": "cancel", "_selected_action": [run.pk]}, follow=True)

    run.refresh_from_db()
    assert run.status == "cancelled"
    assert "cancel requested" in response.content.decode()


def test_the_rollback_action_without_a_backup_is_a_warning_not_an_error(staff_client, run):
    response = staff_client.post(CHANGELIST, {"action": "roll_back", "_selected_action": [run.pk]}, follow=True)

    run.refresh_from_db()
    assert response.status_code == 200 and run.status == "pending"
    assert "no backup to roll back to" in response.content.decode()


def test_runs_cannot_be_added_in_the_admin(staff_client, run):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
