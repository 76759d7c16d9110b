"""Background work contributed by the migrations app: running and rolling back a migration, and running a batch.

Each job loads its run, hands it to the pipeline and records the outcome through the services; a cancel request
reaches the pipeline as its `Stop`, and comes back out as the job's `JobCancelled`. A run whose job ended without
it (cancelled before it ran, a dead worker, a lost hand-off) is ended by the job type's on_end.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps import jobs
from apps.jobs.progress import JobCancelled

from . import batches, pipeline, services
from .models import MigrationRun
from .tracking import RunTracker

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class RunParams(serializers.Serializer):
    session_id = serializers.CharField()


class RollbackParams(RunParams):
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=["files", "database"]), min_length=1)


class RunReporter:
    """Bridges the pipeline's reports to the job (percent and step: the one place progress is kept, with its live
    events), the run's measures (tracking.py) and the run's log (messages go there, the one log of a run)."""

    def __init__(self, run: MigrationRun, progress: Progress) -> None:
        self.run, self.job_progress, self.step = run, progress, ""
        self.tracker = RunTracker(run)

    def report(self, percent: float, step: str, message: str | None = None, **measures: Any) -> None:
        try:
            self.job_progress(percent, step=step)
        except JobCancelled as cancel:
            raise pipeline.Stop(str(cancel)) from cancel
        self.step = step
        services.migration_report_progress(self.run, percent=percent)
        self.tracker.update(**measures)
        if message:
            self.log("info", message, component=pipeline.operation_type(measures["phase"], measures["kind"])
                     if "phase" in measures else "")

    def log(self, level: str, message: str, component: str = "", details: dict[str, Any] | None = None) -> None:
        services.migration_log(self.run, level, message, step=self.step, component=component, details=details)


@contextmanager
def stop_as_cancel() -> Iterator[None]:
    """The pipeline's `Stop` leaves the job as `JobCancelled`, which the runner records as a cancelled job."""
    try:
        yield
    except pipeline.Stop as stop:
        raise JobCancelled(str(stop)) from stop


@jobs.register("migrations.run", params=RunParams, public=False, timeout=6 * 3600,
               on_end=services.migration_job_ended)
def run_migration(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Load the run and hand it to the pipeline; progress and cancellation travel through `progress`."""
    run = services.migration_begin(MigrationRun.objects.get(session_id=params["session_id"]))
    reporter = RunReporter(run, progress)
    backup_id = services.new_backup_id(run)
    earlier = run.backup
    with stop_as_cancel():
        try:
            outcome = pipeline.execute(services.run_config(run), report=reporter.report, log=reporter.log,
                                       backup_id=backup_id, tenant=run.tenant,
                                       earlier_backup=earlier["parts"] if earlier else None,
                                       rollback_on_failure=run.auto_rollback)
        except pipeline.Stop as stop:
            reporter.log("warning", "Cancelled; the destination holds what was copied so far (roll back to undo it).")
            reporter.tracker.finish()
            services.migration_finish(run, status=MigrationRun.Status.CANCELLED,
                                      backup=services.backup_record(getattr(stop, "backup", None), backup_id,
                                                                    earlier))
            raise
        except Exception as error:
            rolled_back = getattr(error, "rolled_back", False)
            reporter.log("error", f"Failed: {error}" + (" The destination was restored from the backup."
                                                        if rolled_back else ""))
            reporter.tracker.finish()
            services.migration_finish(run, status=MigrationRun.Status.ROLLED_BACK if rolled_back
                                      else MigrationRun.Status.FAILED, error=str(error),
                                      backup=None if rolled_back else services.backup_record(
                                          getattr(error, "backup", None), backup_id, earlier))
            raise
    metrics = reporter.tracker.finish(outcome["metrics"])
    services.migration_finish(run, status=MigrationRun.Status.COMPLETED, metrics=metrics,
                              backup=services.backup_record(outcome["backup"], backup_id, earlier))
    return outcome["metrics"]


@jobs.register("migrations.rollback", params=RollbackParams, public=False, timeout=6 * 3600,
               on_end=services.migration_job_ended)
def roll_back_migration(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Restore the destination's parts of the chosen kinds from the run's backup, exactly as they were before."""
    run = MigrationRun.objects.get(session_id=params["session_id"])
    reporter = RunReporter(run, progress)
    with stop_as_cancel():
        try:
            restored = pipeline.restore(services.run_config(run), run.backup["parts"], report=reporter.report,
                                        log=reporter.log, tenant=run.tenant, kinds=tuple(params["kinds"]))
        except Exception as error:
            reporter.log("error", f"Rollback failed: {error}", component="restore")
            services.migration_rollback_finish(run, error=f"Rollback failed: {error}")
            raise
    reporter.log("info", f"Rolled back {', '.join(restored) or 'nothing'}: the destination is as it was before "
                         "the migration.", component="restore")
    services.migration_rollback_finish(run, restored=restored)
    return {"rolled_back": True, "parts": restored}


class BatchParams(serializers.Serializer):
    session_ids = serializers.ListField(child=serializers.CharField(), min_length=1)
    parallel_limit = serializers.IntegerField(min_value=1)
    stop_on_failure = serializers.BooleanField()


#: Seconds between two looks of a batch's coordinator at its migrations.
BATCH_POLL_SECONDS = 1


@jobs.register("migrations.batch", params=BatchParams, public=False, timeout=24 * 3600)
def run_batch(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Start a batch's waiting migrations as its running ones finish, `parallel_limit` at a time (batches.py)."""
    while True:
        finished, total, done = batches.batch_advance(
            params["session_ids"], parallel_limit=params["parallel_limit"],
            stop_on_failure=params["stop_on_failure"], started_by=progress.job.created_by)
        progress(100 * finished / total, step=f"{finished} of {total} migrations finished")
        if done:
            return {"finished": finished, "total": total}
        time.sleep(BATCH_POLL_SECONDS)
