"""`manage.py seed_demo`: an idempotent demo admin, demo user and demo tenant for trying Tessera locally, with a
few tasks, a finished job and a finished migration, so neither the API nor the operator console opens empty.

The job and the migration are written as their finished rows, not run: a demo must not depend on a worker or on
the demo machine's files. Each row is found again by a fixed name, so seeding twice adds nothing.
"""
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.jobs.models import Job, JobLog
from apps.migrations_app.models import MigrationLog, MigrationRun
from apps.tasks.models import Task
from apps.tenants.models import Membership, Tenant

DEMO_TENANT = {"slug": "demo", "name": "Demo"}
DEMO_ACCOUNTS = [
    # email, password, role, membership role, Django admin access
    ("admin@tessera.local", "demo-admin-password", User.Role.ADMIN, Membership.Role.OWNER, True),
    ("user@tessera.local", "demo-user-password", User.Role.USER, Membership.Role.MEMBER, False),
]

DEMO_TASKS = [
    ("Try Tessera", Task.Status.IN_PROGRESS, Task.Priority.HIGH),
    ("Read docs/API.md", Task.Status.PENDING, Task.Priority.MEDIUM),
    ("Open the operator console", Task.Status.COMPLETED, Task.Priority.LOW),
]
DEMO_JOB = {"type": "jobs.probe", "params": {"seconds": 1, "steps": 3}, "request_id": "seed-demo"}
DEMO_MIGRATION = "Demo: archive the 2025 reports"


def seed_tasks(tenant: Tenant, user: User) -> None:
    for title, status, priority in DEMO_TASKS:
        Task.objects.get_or_create(tenant=tenant, user=user, title=title,
                                   defaults={"status": status, "priority": priority})


def seed_finished_job(tenant: Tenant, user: User) -> None:
    if Job.objects.filter(tenant=tenant, request_id=DEMO_JOB["request_id"]).exists():
        return
    finished = timezone.now()
    started = finished - timedelta(seconds=1)
    job = Job.objects.create(tenant=tenant, created_by=user, **DEMO_JOB, status=Job.Status.SUCCEEDED,
                             progress=100, step="step 3 of 3", attempts=1, result={"steps": 3},
                             queued_at=started, started_at=started, finished_at=finished)
    JobLog.objects.bulk_create(JobLog(job=job, progress=round(n * 100 / 3), step=f"step {n} of 3",
                                      message=f"Finished step {n}") for n in range(1, 4))


def seed_finished_migration(tenant: Tenant, user: User) -> None:
    if MigrationRun.objects.filter(tenant=tenant, name=DEMO_MIGRATION).exists():
        return
    finished = timezone.now()
    run = MigrationRun.objects.create(
        tenant=tenant, created_by=user, name=DEMO_MIGRATION, status=MigrationRun.Status.COMPLETED,
        description="A finished example: a directory copied to an archive, as the directory adapter does.",
        source={"type": "directory", "path": "/srv/reports/2025"},
        destination={"type": "directory", "path": "/srv/archive/reports-2025"},
        metrics={"steps_completed": 3, "steps_total": 3, "seconds": 3.2, "rate_average": 4_718_592,
                 "parts": {"main": {"kind": "files", "done_items": 42, "total_items": 42, "done_bytes": 18_874_368,
                                    "total_bytes": 18_874_368}}},
        started_at=finished - timedelta(seconds=4), finished_at=finished)
    MigrationLog.objects.bulk_create([
        MigrationLog(run=run, step="copy", component="file_transfer", message="Copied 42 files (18.0 MiB)"),
        MigrationLog(run=run, step="verify", component="verification", message="Checksums match"),
    ])


class Command(BaseCommand):
    help = "Create (or reset) the demo admin, demo user and demo tenant, and print their credentials."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:

        tenant, _ = Tenant.objects.get_or_create(slug=DEMO_TENANT["slug"], defaults={"name": DEMO_TENANT["name"]})
        for email, password, role, membership_role, staff in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(email=email)
            user.role, user.is_staff, user.is_superuser, user.is_active = role, staff, staff, True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": membership_role})
        demo_user = User.objects.get(email=DEMO_ACCOUNTS[1][0])
        seed_tasks(tenant, demo_user)
        seed_finished_job(tenant, demo_user)
        seed_finished_migration(tenant, demo_user)
        self.stdout.write(self.style.SUCCESS(f"Demo tenant: {tenant.slug} (id {tenant.pk})"))
        for email, password, role, _, staff in DEMO_ACCOUNTS:
            where = "API and /admin/" if staff else "API"
            self.stdout.write(f"  {role:<6} {email} / {password}   ({where})")
