"""`manage.py seed_demo`: the demo accounts `make run` prints."""
from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.jobs.models import Job, JobLog
from apps.migrations_app.models import MigrationLog, MigrationRun
from apps.tasks.models import Task
from apps.tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def seed() -> str:
    output = StringIO()
    call_command("seed_demo", stdout=output)
    return output.getvalue()


def test_seeding_creates_an_admin_and_a_user_in_the_demo_tenant_and_prints_their_credentials():
    output = seed()

    demo = Tenant.objects.get(slug="demo")
    assert set(Membership.objects.filter(tenant=demo).values_list("user__email", flat=True)) == {
        "admin@tessera.local", "user@tessera.local"}
    assert User.objects.get(email="admin@tessera.local").is_staff
    assert "user@tessera.local / demo-user-password" in output


def test_seeding_twice_changes_nothing_and_still_lets_the_demo_user_log_in(client):
    seed()

    seed()

    assert User.objects.filter(email__endswith="@tessera.local").count() == 2
    response = client.post("/api/v1/auth/token", {"email": "user@tessera.local", "password": "demo-user-password"},
                           content_type="application/json")
    assert response.status_code == 200


def test_seeding_gives_the_demo_tenant_tasks_a_finished_job_and_a_finished_migration():
    seed()

    demo = Tenant.objects.get(slug="demo")
    job = Job.objects.get(tenant=demo)
    migration = MigrationRun.objects.get(tenant=demo)
    assert Task.objects.filter(tenant=demo, user__email="user@tessera.local").count() == 3
    assert (job.status, job.progress, job.logs.count()) == (Job.Status.SUCCEEDED, 100, 3)
    assert job.started_at and job.finished_at
    assert (migration.status, migration.progress) == (MigrationRun.Status.COMPLETED, 100)
    assert migration.logs.exists()


def test_seeding_twice_adds_no_duplicate_demo_rows():
    seed()
    counts = (Task.objects.count(), Job.objects.count(), JobLog.objects.count(), MigrationRun.objects.count(),
              MigrationLog.objects.count())

    seed()

    assert (Task.objects.count(), Job.objects.count(), JobLog.objects.count(), MigrationRun.objects.count(),
            MigrationLog.objects.count()) == counts
