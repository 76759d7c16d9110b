"""Stored runs take the new shapes, nothing lost: a backup becomes {id, taken_at, parts}; each part's final
metrics name their kind and carry done/total counts; a run's last progress and step go to its job (the one place
progress is kept from now on) where they differ. Reversible."""
from django.db import migrations

SITE_PARTS = {"files": "files", "database": "database"}


def part_kind(run, name):
    if name in SITE_PARTS:
        return SITE_PARTS[name]
    return "files" if (run.source or {}).get("type") == "directory" else "database"


def forward(apps, schema_editor):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    Job = apps.get_model("jobs", "Job")
    for run in MigrationRun.objects.select_related("job").iterator():
        changed = {}
        if run.backup is not None and "parts" not in run.backup:
            changed["backup"] = {"id": f"backup-legacy-{run.session_id[:8]}",
                                 "taken_at": run.started_at.isoformat() if run.started_at else None,
                                 "parts": run.backup}
        parts = (run.metrics or {}).get("parts")
        if isinstance(parts, dict) and any("kind" not in part for part in parts.values()):
            changed["metrics"] = {**run.metrics, "parts": {name: {
                "kind": part_kind(run, name), "done_items": part.get("items_copied", 0) + part.get("items_skipped", 0),
                "total_items": part.get("items_copied", 0) + part.get("items_skipped", 0),
                "done_bytes": part.get("bytes_copied", 0), "total_bytes": part.get("bytes_copied", 0), **part}
                for name, part in parts.items()}}
        if changed:
            MigrationRun.objects.filter(pk=run.pk).update(**changed)
        if run.job is not None and (run.job.progress, run.job.step) != (run.progress, run.step):
            Job.objects.filter(pk=run.job_id).update(progress=run.progress, step=run.step)


def backward(apps, schema_editor):
    MigrationRun = apps.get_model("migrations_app", "MigrationRun")
    for run in MigrationRun.objects.select_related("job").iterator():
        changed = {}
        if run.backup is not None and "parts" in run.backup:
            changed["backup"] = run.backup["parts"]
        if run.job is not None:
            changed.update(progress=run.job.progress, step=run.job.step)
        elif run.status == "completed":
            changed["progress"] = 100
        if changed:
            MigrationRun.objects.filter(pk=run.pk).update(**changed)


class Migration(migrations.Migration):

    dependencies = [("migrations_app", "0007_start_options_and_log_details"), ("jobs", "0002_tenant_job_limits")]

    operations = [migrations.RunPython(forward, backward)]
