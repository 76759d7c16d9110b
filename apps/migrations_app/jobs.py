"""Background work contributed by the migrations app: running and rolling back a migration."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from apps import jobs
from apps.jobs.progress import JobCancelled

from . import engine, services
from .models import MigrationRun

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class RunParams(serializers.Serializer):
    migration_id = serializers.IntegerField()


class RunReporter:
    """Bridges the engine's reports to the job (percent, step, live events) and the run's own log and progress."""

    def __init__(self, run: MigrationRun, progress: Progress) -> None:
        self.run, self.job_progress, self.step = run, progress, ""

    def report(self, percent: float, step: str, message: str | None = None) -> None:
        self.job_progress(percent, step=step, message=message)
        self.step = step
        MigrationRun.objects.filter(pk=self.run.pk).update(progress=int(percent), step=step[:200])

    def log(self, level: str, message: str) -> None:
        services.migration_log(self.run, level, message, step=self.step)


def _finish(run: MigrationRun, status: str, **fields) -> None:
    with transaction.atomic():
        locked = MigrationRun.objects.select_for_update().get(pk=run.pk)
        for name, value in {"status": status, "finished_at": timezone.now(), **fields}.items():
            setattr(locked, name, value)
        locked.save()


@jobs.register("migrations.run", params=RunParams, public=False, timeout=6 * 3600)
def run_migration(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Load the run and hand it to the engine; progress and cancellation travel through `progress`."""
    run = MigrationRun.objects.get(pk=params["migration_id"])
    MigrationRun.objects.filter(pk=run.pk).update(status=MigrationRun.Status.RUNNING, started_at=timezone.now())
    reporter = RunReporter(run, progress)
    try:
        outcome = engine.execute(services.run_config(run), report=reporter.report, log=reporter.log,
                                 backup_id=f"run-{run.pk}-{progress.job.pk}", tenant=run.tenant,
                                 earlier_backup=run.backup)
    except JobCancelled as cancel:
        reporter.log("warning", "Cancelled; the destination holds what was copied so far (roll back to undo it).")
        _finish(run, MigrationRun.Status.CANCELLED, backup=getattr(cancel, "backup", None) or run.backup)
        raise
    except Exception as error:
        rolled_back = getattr(error, "rolled_back", False)
        reporter.log("error", f"Failed: {error}" + (" The destination was restored from the backup." if rolled_back
                                                    else ""))
        _finish(run, MigrationRun.Status.ROLLED_BACK if rolled_back else MigrationRun.Status.FAILED,
                error=str(error), backup=None if rolled_back else getattr(error, "backup", None))
        raise
    _finish(run, MigrationRun.Status.SUCCEEDED, progress=100, metrics=outcome["metrics"], backup=outcome["backup"])
    return outcome["metrics"]


@jobs.register("migrations.rollback", params=RunParams, public=False, timeout=6 * 3600)
def roll_back_migration(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Restore the destination from the run's backup, exactly as it was before the migration."""
    run = MigrationRun.objects.get(pk=params["migration_id"])
    reporter = RunReporter(run, progress)
    try:
        engine.restore(services.run_config(run), run.backup, report=reporter.report, log=reporter.log,
                       tenant=run.tenant)
    except Exception as error:
        reporter.log("error", f"Rollback failed: {error}")
        _finish(run, MigrationRun.Status.FAILED, error=f"Rollback failed: {error}")
        raise
    reporter.log("info", "Rolled back: the destination is as it was before the migration.")
    _finish(run, MigrationRun.Status.ROLLED_BACK, backup=None)
    return {"rolled_back": True}
