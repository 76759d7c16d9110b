"""The pipeline: executes a validated plan part by part (check, back up, transfer, verify), and rolls back.

It knows nothing of runs, jobs or HTTP: the job (jobs.py) and the management command both call `execute` with a
`report(percent, step, message, **measures)` callable and a `log(level, message, ...)` callable, so the API and the
terminal drive exactly the same code. It drives each part through its kind's `Transfer` (adapters/base.py) and never asks which
kind that is. To stop a run at its next checkpoint, the caller's `report` raises `Stop`: it unwinds through here
without a rollback, and each transfer leaves its destination consistent when that happens.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .conf import migrations_settings
from .config import Part, parts, transfer_for, transfer_options

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

#: `report(percent, step, message=None, **measures)`: the run's progress; raising `Stop` out of it stops the run.
#: The measures say where the run is: `steps_completed`, `steps_total`, `operation` ({type, source, destination})
#: at each step, and the transfer's own counts within it (`part`, `kind`, `done_items`, `total_items`,
#: `done_bytes`, `total_bytes`). A caller that wants only the bar ignores them.
Report = Callable[..., None]
#: `log(level, message, component="", details=None)`: one entry of the run's log.
Log = Callable[..., None]


class Stop(Exception):
    """Raised by the caller's `report` to stop the run where it is: what was copied stays (a later run resumes, a
    rollback undoes it), so nothing is rolled back. The backup taken so far is attached as `backup`."""


class VerificationFailed(Exception):
    """verify_after found the destination different from the source."""


class ChecksFailed(Exception):
    """A blocking check failed when the run started (the world changed since validation)."""


#: The log `component` and the status `current_operation.type` of each phase, per part kind.
OPERATIONS = {"backup": "backup", "transfer": {"files": "file_transfer", "database": "database_transfer"},
              "verify": "verification", "restore": "restore"}


def operation_type(phase: str, kind: str) -> str:
    operation = OPERATIONS[phase]
    return operation[kind] if isinstance(operation, dict) else operation


class PartRun:
    """One part's move, reporting its share of the whole run's progress."""

    def __init__(self, part: Part, *, options: dict[str, Any], report: Report, share: tuple[float, float],
                 tenant: Tenant | None = None) -> None:
        self.part, self.report = part, report
        self.transfer = transfer_for(part, options=options, tenant=tenant)
        self.start, self.width = share
        self.phase = "transfer"

    @property
    def operation(self) -> dict[str, str]:
        """What this part moves, named without credentials: a directory path or a database's label."""
        return {"type": operation_type(self.phase, self.part.kind), "source": describe(self.transfer.source),
                "destination": describe(self.transfer.destination)}

    def progress(self, *, done_items: int = 0, total_items: int = 0, done_bytes: int = 0, total_bytes: int = 0,
                 step: str = "", message: str | None = None) -> None:
        fraction = done_bytes / total_bytes if total_bytes else (done_items / total_items if total_items else 0)
        self.report(self.start + self.width * min(fraction, 1.0), f"{self.part.name}: {step}", message,
                    part=self.part.name, kind=self.part.kind, phase=self.phase, done_items=done_items,
                    total_items=total_items, done_bytes=done_bytes, total_bytes=total_bytes,
                    operation={**self.operation, "progress": round(min(fraction, 1.0) * 100, 1)})


def describe(adapter: Any) -> str:
    return str(adapter.config.get("path") or getattr(adapter, "label", adapter.type))


def _part_runs(config: dict, *, report: Report, tenant: Tenant | None = None) -> list[PartRun]:
    options = transfer_options(config)
    plan = parts(config)
    width = 1.0 / len(plan)
    return [PartRun(part, options=options, report=report, share=(index * width * 100, width * 100), tenant=tenant)
            for index, part in enumerate(plan)]


class Steps:
    """The run's steps (each part's backup, transfer and verification, as the safety options ask), counted as
    they complete: what `steps_completed` / `steps_total` report."""

    def __init__(self, runs: list[PartRun], *, report: Report, backup: bool, verify: bool) -> None:
        self.report, self.completed = report, 0
        self.total = len(runs) * (1 + backup + verify)

    def begin(self, run: PartRun, phase: str, percent: float) -> None:
        run.phase = phase
        self.report(percent, f"{run.part.name}: {phase}", steps_completed=self.completed, steps_total=self.total,
                    operation={**run.operation, "progress": 0.0})

    def done(self) -> None:
        self.completed += 1


def execute(config: dict[str, Any], *, report: Report, log: Log, backup_id: str, tenant: Tenant | None = None,
            earlier_backup: dict[str, Any] | None = None, rollback_on_failure: bool = False) -> dict[str, Any]:
    """Run the whole migration; returns {"metrics": ..., "backup": ...}. Raises on failure, after rolling back
    what it backed up when safety.rollback_on_failure (or the start's `rollback_on_failure`) asks for it; the
    backup taken is attached to the error.

    `earlier_backup` is the snapshot an earlier, unfinished attempt took (a cancelled run being resumed): it
    is kept instead of snapshotting the half-copied destination, so a rollback still restores the original."""
    safety = config.get("safety") or {}
    runs = _part_runs(config, report=report, tenant=tenant)
    blocking = [check for run in runs for check in run.transfer.checks()
                if not check.passed and check.severity == "error"]
    if blocking:
        raise ChecksFailed("; ".join(check.message for check in blocking))
    backing_up, verifying = safety.get("backup_before", True), safety.get("verify_after", True)
    steps = Steps(runs, report=report, backup=backing_up, verify=verifying)
    backup, metrics, started = dict(earlier_backup or {}), {"parts": {}}, time.monotonic()
    try:
        for run in runs:
            name, component = run.part.name, operation_type("transfer", run.part.kind)
            if backing_up:
                steps.begin(run, "backup", run.start)
                if name not in backup:
                    log("info", f"{name}: backing up what the migration will overwrite", component="backup")
                    backup_dir = Path(migrations_settings.BACKUP_ROOT) / backup_id / name
                    backup[name] = run.transfer.backup(backup_dir)
                steps.done()
            steps.begin(run, "transfer", run.start)
            log("info", f"{name}: transferring", component=component)
            transferred = run.transfer.copy(run.progress)
            part_metrics = {"kind": run.part.kind, "items_copied": transferred.items_copied,
                            "items_skipped": transferred.items_skipped, "bytes_copied": transferred.bytes_copied,
                            "seconds": round(transferred.seconds, 3),
                            "rate_bytes_per_second": round(transferred.bytes_copied / transferred.seconds)
                            if transferred.seconds else None}
            if "tables" in transferred.details:
                part_metrics["tables"] = len(transferred.details["tables"])
            steps.done()
            if verifying:
                steps.begin(run, "verify", run.start + run.width)
                log("info", f"{name}: verifying", component="verification")
                verification = run.transfer.verify(transferred, run.progress)
                part_metrics["verified"] = verification.checked
                if not verification.passed:
                    raise VerificationFailed(f"{name}: " + "; ".join(verification.mismatches[:10]))
                steps.done()
            metrics["parts"][name] = part_metrics
            log("info", f"{name}: done ({transferred.items_copied} copied, "
                        f"{transferred.items_skipped} already identical)", component=component,
                details={key: value for key, value in part_metrics.items() if key != "kind"})
    except BaseException as error:
        error.backup = backup or None
        if (safety.get("rollback_on_failure") or rollback_on_failure) and backup and not isinstance(error, Stop):
            log("warning", f"Rolling back after a failure: {error}", component="restore")
            restore(config, backup, report=report, log=log, tenant=tenant)
            error.rolled_back = True
        raise
    metrics["seconds"] = round(time.monotonic() - started, 3)
    metrics["steps_completed"], metrics["steps_total"] = steps.completed, steps.total
    return {"metrics": metrics, "backup": backup or None}


def restore(config: dict[str, Any], backup: dict[str, Any], *, report: Report, log: Log,
            tenant: Tenant | None = None, kinds: tuple[str, ...] = ("files", "database")) -> list[str]:
    """Put every backed-up part of the destination of the given `kinds` back exactly as it was; the names of the
    parts restored."""
    restored = []
    for run in reversed(_part_runs(config, report=report, tenant=tenant)):
        if run.part.name in backup and run.part.kind in kinds:
            run.phase = "restore"
            report(run.start, f"{run.part.name}: restore", operation={**run.operation, "progress": 0.0})
            log("info", f"{run.part.name}: restoring the backup", component="restore")
            run.transfer.restore(backup[run.part.name])
            restored.append(run.part.name)
    return restored


def discard(config: dict[str, Any], backup: dict[str, Any], *, tenant: Tenant | None = None) -> None:
    """Delete every part's backup: no rollback will need them any more."""
    for run in _part_runs(config, report=lambda *args, **kwargs: None, tenant=tenant):
        if run.part.name in backup:
            run.transfer.discard(backup[run.part.name])
