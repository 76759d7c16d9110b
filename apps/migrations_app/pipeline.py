"""The pipeline: executes a validated plan part by part (check, back up, transfer, verify), and rolls back.

It knows nothing of runs, jobs or HTTP: the job (jobs.py) and the management command both call `execute` with a
`report(percent, step, message)` callable and a `log(level, message)` callable, so the API and the terminal drive
exactly the same code. It drives each part through its kind's `Transfer` (adapters/base.py) and never asks which
kind that is. To stop a run at its next checkpoint, the caller's `report` raises `Stop`: it unwinds through here
without a rollback, and each transfer leaves its destination consistent when that happens.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .config import Part, parts, transfer_for, transfer_options

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

#: `report(percent, step, message=None)`: the run's progress; raising `Stop` out of it stops the run.
Report = Callable[..., None]
#: `log(level, message)`: one entry of the run's log.
Log = Callable[[str, str], None]


class Stop(Exception):
    """Raised by the caller's `report` to stop the run where it is: what was copied stays (a later run resumes, a
    rollback undoes it), so nothing is rolled back. The backup taken so far is attached as `backup`."""


class VerificationFailed(Exception):
    """verify_after found the destination different from the source."""


class ChecksFailed(Exception):
    """A blocking check failed when the run started (the world changed since validation)."""


class PartRun:
    """One part's move, reporting its share of the whole run's progress."""

    def __init__(self, part: Part, *, options: dict[str, Any], report: Report, share: tuple[float, float],
                 tenant: Tenant | None = None) -> None:
        self.part, self.report = part, report
        self.transfer = transfer_for(part, options=options, tenant=tenant)
        self.start, self.width = share

    def progress(self, *, done_items: int = 0, total_items: int = 0, done_bytes: int = 0, total_bytes: int = 0,
                 step: str = "", message: str | None = None) -> None:
        fraction = done_bytes / total_bytes if total_bytes else (done_items / total_items if total_items else 0)
        self.report(self.start + self.width * min(fraction, 1.0), f"{self.part.name}: {step}", message)


def _part_runs(config: dict, *, report: Report, tenant: Tenant | None = None) -> list[PartRun]:
    options = transfer_options(config)
    plan = parts(config)
    width = 1.0 / len(plan)
    return [PartRun(part, options=options, report=report, share=(index * width * 100, width * 100), tenant=tenant)
            for index, part in enumerate(plan)]


def execute(config: dict[str, Any], *, report: Report, log: Log, backup_id: str, tenant: Tenant | None = None,
            earlier_backup: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the whole migration; returns {"metrics": ..., "backup": ...}. Raises on failure, after rolling back
    what it backed up when safety.rollback_on_failure asks for it; the backup taken is attached to the error.

    `earlier_backup` is the snapshot an earlier, unfinished attempt took (a cancelled run being resumed): it
    is kept instead of snapshotting the half-copied destination, so a rollback still restores the original."""
    safety = config.get("safety") or {}
    runs = _part_runs(config, report=report, tenant=tenant)
    blocking = [check for run in runs for check in run.transfer.checks()
                if not check.passed and check.severity == "error"]
    if blocking:
        raise ChecksFailed("; ".join(check.message for check in blocking))
    backup, metrics, started = dict(earlier_backup or {}), {"parts": {}}, time.monotonic()
    try:
        for run in runs:
            if safety.get("backup_before", True) and run.part.name not in backup:
                log("info", f"{run.part.name}: backing up what the migration will overwrite")
                backup_dir = Path(settings.TESSERA_MIGRATIONS["BACKUP_ROOT"]) / backup_id / run.part.name
                backup[run.part.name] = run.transfer.backup(backup_dir)
            log("info", f"{run.part.name}: transferring")
            transferred = run.transfer.copy(run.progress)
            part_metrics = {"items_copied": transferred.items_copied, "items_skipped": transferred.items_skipped,
                            "bytes_copied": transferred.bytes_copied, "seconds": round(transferred.seconds, 3),
                            "rate_bytes_per_second": round(transferred.bytes_copied / transferred.seconds)
                            if transferred.seconds else None}
            if safety.get("verify_after", True):
                log("info", f"{run.part.name}: verifying")
                verification = run.transfer.verify(transferred, run.progress)
                part_metrics["verified"] = verification.checked
                if not verification.passed:
                    raise VerificationFailed(f"{run.part.name}: " + "; ".join(verification.mismatches[:10]))
            metrics["parts"][run.part.name] = part_metrics
            log("info", f"{run.part.name}: done ({transferred.items_copied} copied, "
                        f"{transferred.items_skipped} already identical)")
    except BaseException as error:
        error.backup = backup or None
        if safety.get("rollback_on_failure") and backup and not isinstance(error, Stop):
            log("warning", f"Rolling back after a failure: {error}")
            restore(config, backup, report=report, log=log, tenant=tenant)
            error.rolled_back = True
        raise
    metrics["seconds"] = round(time.monotonic() - started, 3)
    return {"metrics": metrics, "backup": backup or None}


def restore(config: dict[str, Any], backup: dict[str, Any], *, report: Report, log: Log,
            tenant: Tenant | None = None) -> None:
    """Put every backed-up part of the destination back exactly as it was."""
    for run in reversed(_part_runs(config, report=report, tenant=tenant)):
        if run.part.name in backup:
            log("info", f"{run.part.name}: restoring the backup")
            run.transfer.restore(backup[run.part.name])

