"""The engine: executes a validated plan part by part (check, measure, back up, transfer, verify), and rolls back.

It knows nothing of runs, jobs or HTTP: the job (jobs.py) and the management command both call
`execute` with a `report(percent, step, message)` callable and a `log(level, message)` callable, so the
API and the terminal drive exactly the same code. A cancel raises out of `report` (JobCancelled) and
unwinds through here; each transfer engine leaves its destination consistent when that happens.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any


from .adapters import databases, directory
from .adapters.base import Check, TransferReport, VerificationReport
from .conf import migrations_settings
from .config import Part, adapter_for, parts

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

#: `report(percent, step, message=None)`: the run's progress; a cancel raises out of it.
Report = Callable[..., None]
#: `log(level, message)`: one entry of the run's log.
Log = Callable[[str, str], None]


class VerificationFailed(Exception):
    """verify_after found the destination different from the source."""


class ChecksFailed(Exception):
    """A blocking check failed when the run started (the world changed since validation)."""


def estimate_seconds(total_bytes: int, kind: str) -> float:
    """A first estimate from measured size: conservative rates for this class of machine."""
    rate = 80e6 if kind == "files" else 40e6
    return round(total_bytes / rate + 1, 1)


def private_directory(path: Path) -> Path:
    """`path`, created if missing with every new directory on the way 0700: backups hold copies of whatever a
    migration overwrote, for the platform's user only. Existing directories are left as the operator made them."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    return missing[0] if missing else path


class PartRun:
    """One part's move, reporting its share of the whole run's progress."""

    def __init__(self, part: Part, *, options: dict[str, Any], report: Report, log: Log, share: tuple[float, float],
                 tenant: Tenant | None = None) -> None:
        self.part, self.options, self.report, self.log = part, options, report, log
        self.source = adapter_for(part.source, tenant)
        self.destination = adapter_for(part.destination, tenant)
        self.start, self.width = share

    def progress(self, *, done_items: int = 0, total_items: int = 0, done_bytes: int = 0, total_bytes: int = 0,
                 step: str = "", message: str | None = None) -> None:
        fraction = done_bytes / total_bytes if total_bytes else (done_items / total_items if total_items else 0)
        self.report(self.start + self.width * min(fraction, 1.0), f"{self.part.name}: {step}", message)

    def checks(self) -> list[Check]:
        return [*self.source.checks(role="source"), *self.destination.checks(role="destination")]

    def backup(self, backup_root: Path) -> dict:
        if self.part.kind == "files":
            return directory.backup_tree(self.destination, directory.relative_files(self.source),
                                         private_directory(backup_root / self.part.name))
        return databases.backup_database(self.destination, self.options.get("tables"))

    def restore(self, backup: dict) -> None:
        if self.part.kind == "files":
            directory.restore_tree(backup)
        else:
            databases.restore_database(self.destination, backup)

    def transfer(self) -> TransferReport:
        if self.part.kind == "files":
            return directory.copy_tree(self.source, self.destination, parallel=self.options["parallel_transfers"],
                                       progress=self.progress)
        return databases.copy_database(self.source, self.destination, tables=self.options.get("tables"),
                                       batch_size=self.options["batch_size"], progress=self.progress)

    def verify(self, transfer_report: TransferReport) -> VerificationReport:
        if self.part.kind == "files":
            return directory.verify_tree(self.source, self.destination, progress=self.progress,
                                         manifest=transfer_report.details.get("manifest"))
        return databases.verify_database(self.source, self.destination, tables=self.options.get("tables"))


def _part_runs(config: dict, *, report, log, tenant=None) -> list[PartRun]:
    options = {"parallel_transfers": 4, "batch_size": 5000,
               **(config.get("transfer") or {}).get("options", {})}
    plan = parts(config)
    width = 1.0 / len(plan)
    return [PartRun(part, options=options, report=report, log=log, share=(index * width * 100, width * 100),
                    tenant=tenant) for index, part in enumerate(plan)]


def execute(config: dict[str, Any], *, report: Report, log: Log, backup_id: str, tenant: Tenant | None = None,
            earlier_backup: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the whole migration; returns {"metrics": ..., "backup": ...}. Raises on failure, after rolling back
    what it backed up when safety.rollback_on_failure asks for it; the backup taken is attached to the error.

    `earlier_backup` is the snapshot an earlier, unfinished attempt took (a cancelled run being resumed): it
    is kept instead of snapshotting the half-copied destination, so a rollback still restores the original."""
    safety = config.get("safety") or {}
    runs = _part_runs(config, report=report, log=log, tenant=tenant)
    blocking = [check for run in runs for check in run.checks() if not check.passed and check.severity == "error"]
    if blocking:
        raise ChecksFailed("; ".join(check.message for check in blocking))
    backup, metrics, started = dict(earlier_backup or {}), {"parts": {}}, time.monotonic()
    try:
        for run in runs:
            if safety.get("backup_before", True) and run.part.name not in backup:
                log("info", f"{run.part.name}: backing up what the migration will overwrite")
                backup[run.part.name] = run.backup(Path(migrations_settings.BACKUP_ROOT) / backup_id)
            log("info", f"{run.part.name}: transferring")
            transferred = run.transfer()
            part_metrics = {"items_copied": transferred.items_copied, "items_skipped": transferred.items_skipped,
                            "bytes_copied": transferred.bytes_copied, "seconds": round(transferred.seconds, 3),
                            "rate_bytes_per_second": round(transferred.bytes_copied / transferred.seconds)
                            if transferred.seconds else None}
            if safety.get("verify_after", True):
                log("info", f"{run.part.name}: verifying")
                verification = run.verify(transferred)
                part_metrics["verified"] = verification.checked
                if not verification.passed:
                    raise VerificationFailed(f"{run.part.name}: " + "; ".join(verification.mismatches[:10]))
            metrics["parts"][run.part.name] = part_metrics
            log("info", f"{run.part.name}: done ({transferred.items_copied} copied, "
                        f"{transferred.items_skipped} already identical)")
    except BaseException as error:
        error.backup = backup or None
        if safety.get("rollback_on_failure") and backup and not _is_cancel(error):
            log("warning", f"Rolling back after a failure: {error}")
            restore(config, backup, report=report, log=log, tenant=tenant)
            error.rolled_back = True
        raise
    metrics["seconds"] = round(time.monotonic() - started, 3)
    return {"metrics": metrics, "backup": backup or None}


def restore(config: dict[str, Any], backup: dict[str, Any], *, report: Report, log: Log,
            tenant: Tenant | None = None) -> None:
    """Put every backed-up part of the destination back exactly as it was."""
    for run in reversed(_part_runs(config, report=report, log=log, tenant=tenant)):
        if run.part.name in backup:
            log("info", f"{run.part.name}: restoring the backup")
            run.restore(backup[run.part.name])


def _is_cancel(error: BaseException) -> bool:
    from apps.jobs.progress import JobCancelled

    return isinstance(error, JobCancelled)
