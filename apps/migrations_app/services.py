"""State changes of migration runs and presets. Every transition happens here, under a row lock."""
from __future__ import annotations

import copy
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from apps.api.errors import Conflict, PermissionDenied, ValidationFailed
from apps.jobs.services import job_enqueue, job_request_cancel

from . import credentials
from .adapters.base import Check
from .config import SECTIONS, parts, printable, transfer_for, transfer_options, validate_config
from .models import MigrationLog, MigrationRun, Preset, TenantMigrationLimits

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant


def _seal_config(config: dict) -> tuple[dict, dict, str]:
    """(stored source, stored destination, encrypted credentials) of a validated config."""
    source, source_secrets = credentials.split_secrets(config["source"])
    destination, destination_secrets = credentials.split_secrets(config["destination"])
    return source, destination, credentials.seal({"source": source_secrets, "destination": destination_secrets})


def run_config(run: MigrationRun) -> dict[str, Any]:
    """The run's config with its credentials decrypted: for the pipeline, never for a response or a log."""
    sealed = credentials.unseal(run.secrets)
    return {"source": credentials.merge_secrets(run.source, sealed.get("source", {})),
            "destination": credentials.merge_secrets(run.destination, sealed.get("destination", {})),
            "transfer": run.transfer, "safety": run.safety}


@transaction.atomic
def migration_create(*, tenant: Tenant, created_by: User, name: str, source: dict[str, Any] | None,
                     destination: dict[str, Any] | None, transfer: dict[str, Any] | None = None,
                     safety: dict[str, Any] | None = None, description: str = "") -> MigrationRun:
    """Validate the config (field errors such as `source.path`) and record the run, credentials encrypted."""
    config = validate_config(source=source, destination=destination, transfer=transfer, safety=safety, tenant=tenant)
    stored_source, stored_destination, sealed = _seal_config(config)
    return MigrationRun.objects.create(
        tenant=tenant, created_by=created_by, name=name, description=description, source=stored_source,
        destination=stored_destination, transfer=config["transfer"], safety=config["safety"], secrets=sealed)


def migration_validate(config: dict[str, Any], *, tenant: Tenant | None = None) -> dict[str, Any]:
    """Check a plan against the real systems without moving anything: reachability, permissions, confinement,
    free space against the measured size, schema compatibility and conflicts, and a duration estimate."""
    validated = validate_config(**config, tenant=tenant)
    options = transfer_options(validated)
    checks, total_bytes, kinds = [], 0, set()
    for part in parts(validated):
        transfer = transfer_for(part, options=options, tenant=tenant)
        checks += transfer.checks()
        if not all(check.passed for check in checks if check.severity == "error"):
            continue
        checks += transfer.plan_checks()
        measured = transfer.source.measure()
        total_bytes += measured.bytes
        kinds.add(type(transfer))
        free = transfer.destination.free_bytes()
        if free is not None:
            checks.append(Check(f"{part.name}: free space", free >= measured.bytes,
                                f"{free} bytes free for {measured.bytes} bytes to move."))
    failed = [check for check in checks if not check.passed]
    errors = [check.message for check in failed if check.severity == "error"]
    warnings = [check.message for check in failed if check.severity != "error"]
    estimate = sum(kind.estimate_seconds(total_bytes / len(kinds)) for kind in kinds) if kinds else None
    return {"valid": not errors, "checks_performed": [check.name for check in checks],
            "checks_passed": len(checks) - len(failed), "checks_failed": len(failed), "warnings": warnings,
            "errors": errors, "can_proceed": not errors, "estimated_duration": estimate,
            "measured_bytes": total_bytes}


def _lock(run: MigrationRun) -> MigrationRun:
    return MigrationRun.objects.select_for_update().get(pk=run.pk)


def _require_capacity(run: MigrationRun) -> None:
    limit = TenantMigrationLimits.locked_for(run.tenant_id).max_concurrent_migrations
    busy = (MigrationRun.objects.filter(tenant_id=run.tenant_id, status__in=MigrationRun.BUSY)
            .exclude(pk=run.pk).count())
    if busy >= limit:
        raise Conflict(f"This tenant already runs {busy} migrations, its limit. Wait for one to finish.")


@transaction.atomic
def migration_start(run: MigrationRun, *, started_by: User) -> MigrationRun:
    """Queue one run of the migration as a job. The row lock makes two concurrent starts serialize: the second
    sees it queued and gets a 409 instead of a duplicate run."""
    run = _lock(run)
    if not run.can_start():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be started.")
    _require_capacity(run)
    if run.status not in (MigrationRun.Status.CANCELLED, MigrationRun.Status.FAILED):
        # Only an unfinished attempt's backup still shows the original destination; resuming keeps it.
        run.backup = None
    run.job = job_enqueue("migrations.run", {"session_id": run.session_id}, tenant=run.tenant,
                          created_by=started_by)
    run.status, run.progress, run.error, run.scheduled_for = MigrationRun.Status.STARTED, 0, "", None
    run.save(update_fields=["job", "status", "progress", "error", "scheduled_for", "backup", "updated_at"])
    migration_log(run, "info", f"Queued by {started_by.email}.")
    return run


@transaction.atomic
def migration_cancel(run: MigrationRun, *, cancelled_by: User) -> MigrationRun:
    """Stop a scheduled, queued or running migration; a running one stops at its next checkpoint."""
    run = _lock(run)
    if not run.can_cancel():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be cancelled.")
    if run.is_scheduled:
        Schedule.objects.filter(name=_schedule_name(run)).delete()
        run.status = MigrationRun.Status.CANCELLED
        run.save(update_fields=["status", "updated_at"])
    elif run.job is not None:
        job_request_cancel(run.job, requested_by=cancelled_by)
        if run.status == MigrationRun.Status.STARTED:
            run.status = MigrationRun.Status.CANCELLED
            run.save(update_fields=["status", "updated_at"])
    migration_log(run, "warning", f"Cancel requested by {cancelled_by.email}.")
    return run


@transaction.atomic
def migration_rollback(run: MigrationRun, *, requested_by: User) -> MigrationRun:
    """Restore what the migration overwrote, from its backup, as a job (202). Without a backup it is a 409."""
    run = _lock(run)
    if run.backup is None:
        raise Conflict("This migration has no backup to roll back to (safety.backup_before was off or it never ran).")
    if not run.can_roll_back():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be rolled back.")
    _require_capacity(run)
    run.job = job_enqueue("migrations.rollback", {"session_id": run.session_id}, tenant=run.tenant,
                          created_by=requested_by)
    run.status = MigrationRun.Status.ROLLBACK_STARTED
    run.save(update_fields=["job", "status", "updated_at"])
    migration_log(run, "warning", f"Rollback requested by {requested_by.email}.")
    return run


def _schedule_name(run: MigrationRun) -> str:
    return f"migration-{run.pk}-start"


@transaction.atomic
def migration_schedule(run: MigrationRun, *, run_at: datetime, scheduled_by: User) -> MigrationRun:
    """Start the migration at `run_at` (a django-q2 schedule) instead of now."""
    run = _lock(run)
    if not run.can_start():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be scheduled.")
    if run_at <= timezone.now():
        raise ValidationFailed(details={"run_at": ["Must be in the future."]})
    Schedule.objects.update_or_create(name=_schedule_name(run), defaults={
        "func": "apps.migrations_app.services.migration_start_scheduled", "args": str(run.pk),
        "kwargs": f"{{'user_id': {scheduled_by.pk}}}", "schedule_type": Schedule.ONCE, "next_run": run_at,
        "repeats": 1})
    run.status, run.scheduled_for = MigrationRun.Status.PENDING, run_at
    run.save(update_fields=["status", "scheduled_for", "updated_at"])
    migration_log(run, "info", f"Scheduled for {run_at.isoformat()} by {scheduled_by.email}.")
    return run


def migration_start_scheduled(run_id: int, user_id: int) -> None:
    """The scheduler's entry point: start the run if it is still scheduled."""
    from django.contrib.auth import get_user_model

    run = MigrationRun.objects.filter(pk=run_id, status=MigrationRun.Status.PENDING,
                                      scheduled_for__isnull=False).first()
    if run is not None:
        migration_start(run, started_by=get_user_model().objects.get(pk=user_id))


@transaction.atomic
def migration_begin(run: MigrationRun) -> MigrationRun:
    """The worker took the run: RUNNING from now."""
    run = _lock(run)
    run.status, run.started_at = MigrationRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at", "updated_at"])
    return run


def migration_report_progress(run: MigrationRun, *, percent: float, step: str) -> None:
    """The run's own progress and step, as the pipeline reports them (several times a second at most). A plain
    UPDATE of the two columns: no lock, so a report never waits behind a cancel holding the row."""
    MigrationRun.objects.filter(pk=run.pk).update(progress=int(percent), step=step[:200])


@transaction.atomic
def migration_finish(run: MigrationRun, *, status: str, error: str = "", backup: dict[str, Any] | None = None,
                     metrics: dict[str, Any] | None = None) -> MigrationRun:
    """Record how a run ended: COMPLETED (with its metrics, progress 100), CANCELLED, FAILED or ROLLED_BACK after
    a failure. `backup` is what a rollback would restore from now on (None: nothing)."""
    run = _lock(run)
    run.status, run.error, run.backup, run.finished_at = status, error, backup, timezone.now()
    fields = ["status", "error", "backup", "finished_at", "updated_at"]
    if status == MigrationRun.Status.COMPLETED:
        run.progress, run.metrics = 100, metrics
        fields += ["progress", "metrics"]
    run.save(update_fields=fields)
    return run


@transaction.atomic
def migration_rollback_finish(run: MigrationRun, *, error: str = "") -> MigrationRun:
    """Record how a rollback ended: ROLLED_BACK with its backup spent, or, with an `error`, FAILED with the backup
    kept so the rollback can be tried again."""
    run = _lock(run)
    run.finished_at = timezone.now()
    if error:
        run.status, run.error = MigrationRun.Status.FAILED, error
        run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    else:
        run.status, run.backup = MigrationRun.Status.ROLLED_BACK, None
        run.save(update_fields=["status", "backup", "finished_at", "updated_at"])
    return run


def migration_log(run: MigrationRun, level: str, message: str, step: str = "") -> None:
    """One entry of the run's log; `level` in any case (stored as DEBUG, INFO, WARNING or ERROR)."""
    MigrationLog.objects.create(run=run, level=level.upper(), message=message[:2000], step=step[:200])


def apply_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with dotted-path overrides applied: {"source.path": "/data/site"}."""
    result = copy.deepcopy(config)
    for path, value in overrides.items():
        *parents, key = str(path).split(".")
        node = result
        for parent in parents:
            if not isinstance(node.setdefault(parent, {}), dict):
                raise ValidationFailed(details={f"overrides.{path}": [f"{parent} is not an object."]})
            node = node[parent]
        node[key] = value
    return result


def preset_create_migration(preset: Preset, *, tenant: Tenant, created_by: User, overrides: dict[str, Any],
                            name: str = "") -> MigrationRun:
    """A migration from a preset with overrides applied; the result is validated like any other config."""
    config = apply_overrides(preset.config, overrides)
    return migration_create(tenant=tenant, created_by=created_by, name=name or preset.name,
                            description=preset.description, source=config.get("source"),
                            destination=config.get("destination"), transfer=config.get("transfer"),
                            safety=config.get("safety"))


@transaction.atomic
def preset_save(*, tenant: Tenant, created_by: User, instance: Preset | None = None, **fields: Any) -> Preset:
    """Create or change a tenant's own preset; built-in presets are read-only."""
    if instance is not None and instance.is_builtin:
        raise PermissionDenied("Built-in presets cannot be changed; create your own from one.")
    if "config" in fields:
        if not isinstance(fields["config"], dict):
            raise ValidationFailed(details={"config": ["Must be an object: {source, destination, transfer?, safety?}."]})
        unknown = sorted(str(key) for key in fields["config"] if key not in SECTIONS)
        if unknown:
            raise ValidationFailed(details={f"config.{printable(key)}": ["Unknown field."] for key in unknown})
        config = fields["config"] = credentials.without_secrets(fields["config"])
        validate_config(source=config.get("source"), destination=config.get("destination"),
                        transfer=config.get("transfer"), safety=config.get("safety"), tenant=tenant)
    if instance is None:
        return Preset.objects.create(tenant=tenant, created_by=created_by, **fields)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save(update_fields=[*fields, "updated_at"])
    return instance


def preset_delete(preset: Preset) -> None:
    if preset.is_builtin:
        raise PermissionDenied("Built-in presets cannot be deleted.")
    preset.delete()
