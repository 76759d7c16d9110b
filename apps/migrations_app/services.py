"""State changes of migration runs and presets. Every transition happens here, under a row lock.

A run follows its latest job (`run.job`): the job's function records the outcomes it reaches, and the job type's
on_end (`migration_job_ended`) ends a run its job left behind. Lock order: a run's job before the run, as a job's
end takes them.
"""
from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django_q.models import Schedule

from apps.api import events
from apps.api.errors import Conflict, PermissionDenied, ValidationFailed
from apps.jobs.services import job_enqueue, job_lock, job_request_cancel

from . import credentials, pipeline, preflight, templates
from .adapters.registry import adapter_types
from .config import SECTIONS, printable, validate_config
from .models import MigrationLog, MigrationRun, Preset, TenantMigrationLimits

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.jobs.models import Job
    from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)


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
    validated = validate_config(**{section: config.get(section) for section in SECTIONS}, tenant=tenant)
    return preflight.report(preflight.check_plan(validated, tenant=tenant))


def _save_transition(run: MigrationRun, *fields: str) -> None:
    """Save a status change with the `fields` changed along: every transition of a migration goes through here,
    the one place they are announced (migration.started, .completed, .failed, .cancelled, .rolled_back...)."""
    run.save(update_fields=["status", *fields, "updated_at"])
    events.emit(run, run.status)


def migration_report_progress(run: MigrationRun, *, percent: float) -> None:
    """migration.progress, once per whole percent (the percent itself is kept by the run's job)."""
    if int(percent) != getattr(run, "announced_percent", None):
        run.announced_percent = int(percent)
        events.emit(run, "progress")


def _lock(run: MigrationRun) -> MigrationRun:
    return MigrationRun.objects.select_for_update().get(pk=run.pk)


def _require_capacity(run: MigrationRun) -> None:
    limit = TenantMigrationLimits.locked_for(run.tenant_id).max_concurrent_migrations
    busy = (MigrationRun.objects.filter(tenant_id=run.tenant_id, status__in=MigrationRun.BUSY)
            .exclude(pk=run.pk).count())
    if busy >= limit:
        raise Conflict(f"This tenant already runs {busy} migrations, its limit. Wait for one to finish.")


def migration_require_control(run: MigrationRun, *, user: User, tenant_role: str | None) -> None:
    """Who may start, cancel, schedule, roll back or delete a migration: its creator, the tenant's owners and
    admins, and platform admins (members create and run their own; viewers only read)."""
    from apps.tenants.models import Membership

    if run.created_by_id != user.pk and tenant_role not in Membership.MANAGER_ROLES and not user.is_platform_admin:
        raise PermissionDenied("Only the migration's creator, the tenant's owners and admins, and platform admins "
                               "may do this.")


def migration_start(run: MigrationRun, *, started_by: User, auto_rollback: bool = False,
                    send_notifications: bool = False, check: bool = True) -> MigrationRun:
    """Queue one run of the migration as a job. The row lock makes two concurrent starts serialize: the second
    sees it started and gets a 409 instead of a duplicate run. `auto_rollback` restores the backup if this run
    fails (as safety.rollback_on_failure does); `send_notifications` is recorded for the outcome's notice.

    First the plan goes through the checks POST /validate/ runs, before the row is locked (they reach the real
    systems): a failing one refuses the start with a 422 listing `failed_checks`, and nothing is written. A start
    no one waits on for an answer (the scheduler's, a batch's) passes `check=False`: its worker runs the same
    blocking checks and ends the run `failed` with their messages, where the run's owner sees it."""
    if check and run.can_start():  # a busy run is the 409 below, without reaching anything first
        preflight.require_passing(run_config(run), tenant=run.tenant)
    return _start(run, started_by=started_by, auto_rollback=auto_rollback, send_notifications=send_notifications)


@transaction.atomic
def _start(run: MigrationRun, *, started_by: User, auto_rollback: bool, send_notifications: bool) -> MigrationRun:
    run = _lock(run)
    if not run.can_start():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be started.")
    _require_capacity(run)
    if run.status not in (MigrationRun.Status.CANCELLED, MigrationRun.Status.FAILED):
        # Only an unfinished attempt's backup still shows the original destination; resuming keeps it.
        run.backup = None
    run.job = job_enqueue("migrations.run", {"session_id": run.session_id}, tenant=run.tenant,
                          created_by=started_by)
    run.status, run.error, run.scheduled_for = MigrationRun.Status.STARTED, "", None
    run.auto_rollback, run.send_notifications, run.metrics = auto_rollback, send_notifications, {}
    run.started_at = run.finished_at = None
    _save_transition(run, "job", "error", "scheduled_for", "backup", "auto_rollback", "send_notifications",
                     "metrics", "started_at", "finished_at")
    migration_log(run, "info", f"Started by {started_by.email}.",
                  details={"auto_rollback": auto_rollback, "send_notifications": send_notifications})
    return run


@transaction.atomic
def migration_cancel(run: MigrationRun, *, cancelled_by: User) -> MigrationRun:
    """Stop a scheduled, queued or running migration: a queued one's job ends cancelled at once and the run with it
    (`migration_job_ended`); a running one stops at its next checkpoint."""
    job_lock(MigrationRun.objects.filter(pk=run.pk).values_list("job_id", flat=True).first())
    run = _lock(run)
    if not run.can_cancel():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be cancelled.")
    migration_log(run, "warning", f"Cancel requested by {cancelled_by.email}.")
    if run.is_scheduled:
        Schedule.objects.filter(name=_schedule_name(run)).delete()
        run.status = MigrationRun.Status.CANCELLED
        _save_transition(run)
    elif run.job is not None:
        job_request_cancel(run.job, requested_by=cancelled_by)
        run.refresh_from_db()
    return run


#: rollback_options -> the part kind each restores.
RESTORES = {"restore_files": "files", "restore_database": "database"}


@transaction.atomic
def migration_rollback(run: MigrationRun, *, requested_by: User, backup_id: str | None = None,
                       rollback_options: dict[str, bool] | None = None) -> MigrationRun:
    """Restore what the migration overwrote, from its backup, as a job (202): the parts `rollback_options` name
    (files, database; both by default). Without a backup it is a 409; another `backup_id` than the migration's
    is a 400 naming it."""
    run = _lock(run)
    if run.backup is None:
        raise Conflict("This migration has no backup to roll back to (safety.backup_before was off, it never ran, "
                       "or its backup was discarded).")
    if backup_id is not None and backup_id != run.backup["id"]:
        raise ValidationFailed(details={"backup_id": [f"This migration has no backup {backup_id}; its backup is "
                                                      f"{run.backup['id']}."]})
    options = {**dict.fromkeys(RESTORES, True), **(rollback_options or {})}
    kinds = [kind for option, kind in RESTORES.items() if options[option]]
    if not kinds:
        raise ValidationFailed(details={"rollback_options": ["Nothing to restore: turn on restore_files or "
                                                             "restore_database."]})
    if not run.can_roll_back():
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be rolled back.")
    _require_capacity(run)
    run.job = job_enqueue("migrations.rollback", {"session_id": run.session_id, "kinds": kinds},
                          tenant=run.tenant, created_by=requested_by)
    run.status = MigrationRun.Status.ROLLBACK_STARTED
    _save_transition(run, "job")
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
    _save_transition(run, "scheduled_for")
    migration_log(run, "info", f"Scheduled for {run_at.isoformat()} by {scheduled_by.email}.")
    return run


def migration_start_scheduled(run_id: int, user_id: int) -> None:
    """The scheduler's entry point: start the run if it is still scheduled."""
    from django.contrib.auth import get_user_model

    run = MigrationRun.objects.filter(pk=run_id, status=MigrationRun.Status.PENDING,
                                      scheduled_for__isnull=False).first()
    if run is not None:
        migration_start(run, started_by=get_user_model().objects.get(pk=user_id), check=False)


@transaction.atomic
def migration_begin(run: MigrationRun) -> MigrationRun:
    """The worker took the run: RUNNING from now."""
    run = _lock(run)
    run.status, run.started_at = MigrationRun.Status.RUNNING, timezone.now()
    _save_transition(run, "started_at")
    return run


def migration_record_measures(run: MigrationRun, *, metrics: dict[str, Any]) -> None:
    """The run's live measures (tracking.py), a few times a second at most. Percent and step are its job's. A
    plain UPDATE of the one column: no lock, so a report never waits behind a cancel holding the row."""
    MigrationRun.objects.filter(pk=run.pk).update(metrics=metrics)


@transaction.atomic
def migration_finish(run: MigrationRun, *, status: str, error: str = "", backup: dict[str, Any] | None = None,
                     metrics: dict[str, Any] | None = None) -> MigrationRun:
    """Record how a run ended: COMPLETED (with its metrics, progress 100), CANCELLED, FAILED or ROLLED_BACK after
    a failure. `backup` is what a rollback would restore from now on (None: nothing)."""
    run = _lock(run)
    run.status, run.error, run.backup, run.finished_at = status, error, backup, timezone.now()
    fields = ["error", "backup", "finished_at"]
    if status == MigrationRun.Status.COMPLETED:
        run.metrics = metrics
        fields.append("metrics")
    _save_transition(run, *fields)
    return run


@transaction.atomic
def migration_rollback_finish(run: MigrationRun, *, error: str = "", restored: list[str] = ()) -> MigrationRun:
    """Record how a rollback ended: ROLLED_BACK with the `restored` parts' backups spent (the others are kept for a
    later rollback), or, with an `error`, FAILED with the backup kept so the rollback can be tried again."""
    run = _lock(run)
    run.finished_at = timezone.now()
    if error:
        run.status, run.error = MigrationRun.Status.FAILED, error
        _save_transition(run, "error", "finished_at")
    else:
        left = {name: part for name, part in run.backup["parts"].items() if name not in restored}
        run.status, run.backup = MigrationRun.Status.ROLLED_BACK, {**run.backup, "parts": left} if left else None
        _save_transition(run, "backup", "finished_at")
    return run


def new_backup_id(run: MigrationRun) -> str:
    """The id of the backup a run is about to take (the guide's `backup-20240826-143022`), unique per migration."""
    return f"backup-{timezone.now():%Y%m%d-%H%M%S}-{run.session_id[:8]}"


def backup_record(parts: dict[str, Any] | None, backup_id: str, earlier: dict[str, Any] | None) -> dict | None:
    """What a run stores as its backup: the parts backed up under their id (an earlier attempt's, when resumed)."""
    if not parts:
        return None
    if earlier:
        return {**earlier, "parts": parts}
    return {"id": backup_id, "taken_at": timezone.now().isoformat(), "parts": parts}


def _discard_backup(run: MigrationRun) -> None:
    pipeline.discard(run_config(run), run.backup["parts"], tenant=run.tenant)


@transaction.atomic
def migration_delete(run: MigrationRun, *, deleted_by: User) -> None:
    """Delete a migration that is not running, and discard its backups (no rollback afterwards). A started,
    running or rolling-back migration is 409; a backup that cannot be discarded (its destination unreachable) is a
    409 too, with the migration kept."""
    run = _lock(run)
    if run.status in MigrationRun.BUSY:
        raise Conflict(f"A {run.get_status_display().lower()} migration cannot be deleted; cancel it first.")
    if run.backup:
        try:
            _discard_backup(run)
        except Exception as error:
            raise Conflict(f"Its backup could not be discarded ({error}); the migration was kept.") from error
    if run.is_scheduled:
        Schedule.objects.filter(name=_schedule_name(run)).delete()
    logger.info("Migration %s deleted by user %s", run.session_id, deleted_by.pk)
    run.delete()


def migrations_discard_expired_backups() -> int:
    """The scheduled job: discard each finished migration's backup once its safety.backup_retention_days have
    passed since the run ended (the migration stays, without a rollback). How many were discarded."""
    discarded = 0
    candidates = MigrationRun.objects.filter(backup__isnull=False, status__in=MigrationRun.FINISHED,
                                             safety__backup_retention_days__isnull=False,
                                             finished_at__isnull=False)
    for run in candidates.iterator():
        if run.finished_at + timedelta(days=run.safety["backup_retention_days"]) > timezone.now():
            continue
        with transaction.atomic():
            run = _lock(run)
            if run.backup is None or run.status not in MigrationRun.FINISHED:
                continue
            try:
                _discard_backup(run)
            except Exception as error:
                migration_log(run, "warning", f"The expired backup {run.backup['id']} could not be discarded: "
                                              f"{error}", component="backup")
                continue
            migration_log(run, "info", f"Backup {run.backup['id']} discarded: kept "
                                       f"{run.safety['backup_retention_days']} days (safety.backup_retention_days).",
                          component="backup")
            run.backup = None
            run.save(update_fields=["backup", "updated_at"])
            discarded += 1
    return discarded


def migration_job_ended(job: Job) -> None:
    """on_end of `migrations.run` and `migrations.rollback`: the run's job ended, in this transaction.

    The job's function records every outcome it reaches (completed, rolled back, failed or cancelled, with what the
    backup then holds) before its job ends. A run still busy here was left behind by its job: cancelled before a
    worker took it, its worker died and the reaper ended the job, or the queue could not take it. It ends now,
    cancelled when its job was (a rollback: failed, keeping the backup to try again), else failed with the job's
    reason, so no client polls it forever."""
    run = MigrationRun.objects.select_for_update().filter(job_id=job.pk, status__in=MigrationRun.BUSY).first()
    if run is None:
        return
    reason = job.error or f"Its job ended ({job.status}) without finishing the migration."
    run.finished_at = timezone.now()
    if job.status == job.Status.CANCELLED and run.status != MigrationRun.Status.ROLLBACK_STARTED:
        migration_log(run, "warning", f"Cancelled: {reason}")
        run.status = MigrationRun.Status.CANCELLED
        _save_transition(run, "finished_at")
    else:
        migration_log(run, "error", f"Failed: {reason}")
        run.status, run.error = MigrationRun.Status.FAILED, reason
        _save_transition(run, "error", "finished_at")


def migration_log(run: MigrationRun, level: str, message: str, step: str = "", component: str = "",
                  details: dict[str, Any] | None = None) -> None:
    """One entry of the run's log; `level` in any case (stored as DEBUG, INFO, WARNING or ERROR)."""
    MigrationLog.objects.create(run=run, level=level.upper(), message=message[:2000], step=step[:200],
                                component=component[:40], details=details or {})


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
                            variables: dict[str, Any] | None = None, name: str = "") -> MigrationRun:
    """A migration from a preset: its template filled with `variables` (declared ones only, of their type,
    defaults for the rest), then dotted-path `overrides` applied; the result is validated like any other config."""
    values = templates.variable_values(preset.variables, variables or {})
    config = apply_overrides(templates.render(preset.config_template, values), overrides)
    return migration_create(tenant=tenant, created_by=created_by, name=name or preset.name,
                            description=preset.description, source=config.get("source"),
                            destination=config.get("destination"), transfer=config.get("transfer"),
                            safety=config.get("safety"))


def _template_types(template: dict[str, Any], side: str) -> list[str]:
    kind = (template.get(side) or {}).get("type") if isinstance(template.get(side), dict) else None
    return [kind] if isinstance(kind, str) and not templates.placeholders(kind) else []


@transaction.atomic
def preset_save(*, tenant: Tenant, created_by: User, instance: Preset | None = None,
                template_field: str = "config_template", **fields: Any) -> Preset:
    """Create or change a tenant's own (custom) preset; built-in presets are read-only. The template may hold
    `{{variable}}` placeholders, each declared in `variables` and each variable used; a template without any is
    validated as a config now, one with some when a migration is made from it. `source_types` /
    `destination_types` default to the template's own types; the slug, when none is given, to the name's.

    `template_field` is what the caller calls the template (`config_template` on presets, `template` on the
    guide's templates): errors name it."""
    if instance is not None and instance.is_builtin:
        raise PermissionDenied("Built-in presets cannot be changed; create your own from one.")
    if instance is None and not fields.get("slug"):
        fields["slug"] = _free_slug(tenant, fields.get("name", ""))
    if "slug" in fields:
        _require_free_slug(tenant, fields["slug"], instance)
    template = fields.get("config_template", instance.config_template if instance else None)
    if "config_template" in fields:
        if not isinstance(template, dict):
            raise ValidationFailed(details={template_field: [
                "Must be an object: {source, destination, transfer?, safety?}."]})
        unknown = sorted(str(key) for key in template if key not in SECTIONS)
        if unknown:
            raise ValidationFailed(details={f"{template_field}.{printable(key)}": ["Unknown field."]
                                            for key in unknown})
        template = fields["config_template"] = templates.without_secrets(template)
        if not templates.placeholders(template):
            validate_config(**{section: template.get(section) for section in SECTIONS}, tenant=tenant)
    if "config_template" in fields or "variables" in fields:
        fields["variables"] = templates.validate_variables(
            fields.get("variables", instance.variables if instance else []), template, template_field=template_field)
    for side, name in (("source", "source_types"), ("destination", "destination_types")):
        if name in fields or instance is None:
            chosen = fields.get(name) or _template_types(template, side)
            unknown = sorted(set(chosen) - set(adapter_types()))
            if unknown:  # named where the caller wrote the type: the list, or the template it came from
                raise ValidationFailed(details={name if fields.get(name) else f"{template_field}.{side}.type": [
                    f"Unknown types: {', '.join(unknown)}. Choose among: {', '.join(adapter_types())}."]})
            fields[name] = chosen
    try:
        with transaction.atomic():  # a savepoint: a concurrent save of the same slug loses here, not as a 500
            if instance is None:
                return Preset.objects.create(tenant=tenant, created_by=created_by, **fields)
            for name, value in fields.items():
                setattr(instance, name, value)
            instance.save(update_fields=[*fields, "updated_at"])
            return instance
    except IntegrityError:
        slug = fields.get("slug", getattr(instance, "slug", ""))
        raise Conflict(f"Your tenant already has a preset or template with the slug {slug!r}.",
                       details={"slug": ["Already taken."]}) from None


def _require_free_slug(tenant: Tenant, slug: str, instance: Preset | None) -> None:
    """A slug names one preset among the built-ins and the tenant's own: a built-in's is a 400, another of the
    tenant's own a 409 (as a duplicate elsewhere in the API is)."""
    if Preset.objects.filter(tenant=None, slug=slug).exists():
        raise ValidationFailed(details={"slug": ["A built-in preset has this slug; choose another."]})
    if Preset.objects.filter(tenant=tenant, slug=slug).exclude(pk=getattr(instance, "pk", None)).exists():
        raise Conflict(f"Your tenant already has a preset or template with the slug {slug!r}.",
                       details={"slug": ["Already taken."]})


def _free_slug(tenant: Tenant, name: str) -> str:
    """The name's slug, or with the first free `-2`, `-3`... suffix when a built-in or the tenant's own has it."""
    base = slugify(name)[:72] or "template"
    taken = set(Preset.objects.filter(Q(tenant=None) | Q(tenant=tenant), slug__startswith=base)
                .values_list("slug", flat=True))
    return next(slug for slug in (base, *(f"{base}-{n}" for n in range(2, len(taken) + 3))) if slug not in taken)


def preset_delete(preset: Preset) -> None:
    if preset.is_builtin:
        raise PermissionDenied("Built-in presets cannot be deleted.")
    preset.delete()
