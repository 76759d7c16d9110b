"""Stored migrations speak the guide's words, nothing lost: each run gets its session_id, statuses are renamed
(succeeded -> completed; created and scheduled -> pending, a scheduled one keeping its scheduled_for; queued ->
started; rolling_back -> rollback_started), database logins `user` -> `username` in runs and presets, log levels
upper case, and the run's jobs name it by session_id. Reversible: the way back restores the old words."""
import secrets

from django.db import migrations

STATUSES = {"succeeded": "completed", "created": "pending", "scheduled": "pending", "queued": "started",
            "rolling_back": "rollback_started"}
BACK = {"completed": "succeeded", "started": "queued", "rollback_started": "rolling_back"}
DATABASE_TYPES = ("postgresql", "mysql")
JOB_TYPES = ("migrations.run", "migrations.rollback")


def renamed_login(config, old, new):
    """`config` with the login key of every database side (a site's database part too) renamed."""
    if isinstance(config, dict):
        config = {key: renamed_login(value, old, new) for key, value in config.items()}
        if config.get("type") in DATABASE_TYPES and old in config:
            config[new] = config.pop(old)
    return config


def rename_logins(apps, old, new):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    Preset = apps.get_model("migrations_app", "Preset")
    for run in MigrationRun.objects.only("pk", "source", "destination").iterator():
        MigrationRun.objects.filter(pk=run.pk).update(source=renamed_login(run.source, old, new),
                                                      destination=renamed_login(run.destination, old, new))
    for preset in Preset.objects.only("pk", "config").iterator():
        Preset.objects.filter(pk=preset.pk).update(config=renamed_login(preset.config, old, new))


def forward(apps, schema_editor):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    MigrationLog = apps.get_model("migrations_app", "MigrationLog")
    Job = apps.get_model("jobs", "Job")
    for pk in MigrationRun.objects.filter(session_id__isnull=True).values_list("pk", flat=True).iterator():
        MigrationRun.objects.filter(pk=pk).update(session_id=secrets.token_hex(16))
    for old, new in STATUSES.items():
        MigrationRun.objects.filter(status=old).update(status=new)
    for level in ("debug", "info", "warning", "error"):
        MigrationLog.objects.filter(level=level).update(level=level.upper())
    rename_logins(apps, "user", "username")
    session_ids = dict(MigrationRun.objects.values_list("pk", "session_id"))
    for job in Job.objects.filter(type__in=JOB_TYPES, params__has_key="migration_id").only("pk", "params"):
        session_id = session_ids.get(job.params["migration_id"])
        if session_id is not None:
            Job.objects.filter(pk=job.pk).update(params={"session_id": session_id})


def backward(apps, schema_editor):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    MigrationLog = apps.get_model("migrations_app", "MigrationLog")
    Job = apps.get_model("jobs", "Job")
    runs = dict(MigrationRun.objects.values_list("session_id", "pk"))
    for job in Job.objects.filter(type__in=JOB_TYPES, params__has_key="session_id").only("pk", "params"):
        if job.params["session_id"] in runs:
            Job.objects.filter(pk=job.pk).update(params={"migration_id": runs[job.params["session_id"]]})
    rename_logins(apps, "username", "user")
    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        MigrationLog.objects.filter(level=level).update(level=level.lower())
    MigrationRun.objects.filter(status="pending", scheduled_for__isnull=False).update(status="scheduled")
    MigrationRun.objects.filter(status="pending").update(status="created")
    for new, old in BACK.items():
        MigrationRun.objects.filter(status=new).update(status=old)


class Migration(migrations.Migration):

    dependencies = [
        ("migrations_app", "0004_session_id_and_guide_vocabulary"),
        ("jobs", "0002_tenant_job_limits"),
    ]

    operations = [migrations.RunPython(forward, backward)]
