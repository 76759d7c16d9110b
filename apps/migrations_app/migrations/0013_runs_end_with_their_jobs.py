"""Runs now end with their jobs (the job types' on_end, services.migration_job_ended), so the every-minute schedule
that caught up with jobs that ended without their run is gone. This ends, once, what it would still have caught:
runs left busy by a job that had ended before the upgrade (failed with the job's reason, as it did), and removes
its schedule, whose function no longer exists."""
from django.db import migrations
from django.utils import timezone

BUSY = ("started", "running", "rollback_started")
FINISHED = ("succeeded", "failed", "cancelled")


def end_runs_left_behind(apps, schema_editor):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    MigrationLog = apps.get_model("migrations_app", "MigrationLog")
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name="tessera.migrations.reconcile-with-jobs").delete()
    for run in MigrationRun.objects.filter(status__in=BUSY, job__status__in=FINISHED).select_related("job"):
        reason = run.job.error or f"Its job ended ({run.job.status}) without finishing the migration."
        MigrationLog.objects.create(run=run, level="ERROR", message=f"Failed: {reason}"[:2000])
        MigrationRun.objects.filter(pk=run.pk).update(status="failed", error=reason, finished_at=timezone.now(),
                                                      updated_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_app", "0012_migration_templates"),
        ("jobs", "0003_active_jobs_by_tenant_index"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(end_runs_left_behind, migrations.RunPython.noop)]
