"""Batches of migrations (POST /migrations/batch): created together, and run together when asked.

With `batch_options` (or `start: true`) the batch also runs: the first `parallel_limit` migrations start in the
request (all of them without a limit), and a coordinator job (`migrations.batch`) starts each of the others as a
running one of the batch finishes. With `stop_on_failure`, the first failure stops the batch: what has not started
stays pending (and can be started by hand); what runs is left to finish. The coordinator reads the runs' rows, so
the limit holds whichever web or worker process the migrations run in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.api.errors import Conflict, ValidationFailed
from apps.jobs.services import job_enqueue

from .config import SECTIONS, printable, validate_config
from .models import MigrationRun
from .services import migration_create, migration_log, migration_start

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

#: Statuses a batch counts as a failure for `stop_on_failure`.
FAILURES = (MigrationRun.Status.FAILED, MigrationRun.Status.ROLLED_BACK)


@transaction.atomic
def migration_batch(*, tenant: Tenant, created_by: User, migrations: list[dict[str, Any]],
                    batch_options: dict[str, Any] | None = None, start: bool = False) -> list[MigrationRun]:
    """Create every migration of the batch, or none (errors named `migrations.<n>.<field>`), and run them as
    `batch_options` say when they are given or `start` is true."""
    errors = {}
    for index, item in enumerate(migrations):
        errors.update({f"migrations.{index}.{printable(key)}": ["Unknown field."] for key in item
                       if key not in ("name", "description", *SECTIONS)})
        if not isinstance(item.get("name"), str) or not 0 < len(item["name"]) <= 200:
            errors[f"migrations.{index}.name"] = ["A name of 1 to 200 characters is required."]
        try:
            validate_config(source=item.get("source"), destination=item.get("destination"),
                            transfer=item.get("transfer"), safety=item.get("safety"), tenant=tenant)
        except ValidationFailed as error:
            errors.update({f"migrations.{index}.{key}": value for key, value in error.details.items()})
    if errors:
        raise ValidationFailed("Some migrations in the batch are invalid; none was created.", details=errors)
    runs = [migration_create(tenant=tenant, created_by=created_by, **item) for item in migrations]
    if batch_options is None and not start:
        return runs
    options = {"parallel_limit": len(runs), "stop_on_failure": False, **(batch_options or {})}
    # Checked by their workers (services.migration_start): the batch's answer is the migrations it made.
    started = [migration_start(run, started_by=created_by, check=False) for run in runs[:options["parallel_limit"]]]
    waiting = runs[len(started):]
    if waiting:
        job_enqueue("migrations.batch", {"session_ids": [run.session_id for run in runs], **options},
                    tenant=tenant, created_by=created_by)
    return started + waiting


def batch_advance(session_ids: list[str], *, parallel_limit: int, stop_on_failure: bool,
                  started_by: User) -> tuple[int, int, bool]:
    """Start the batch's pending migrations while fewer than `parallel_limit` of it are busy; (finished,
    total, whether the coordinator is done: nothing left to start, or stopped by a failure)."""
    runs = sorted(MigrationRun.objects.filter(session_id__in=session_ids),
                  key=lambda run: session_ids.index(run.session_id))
    finished = sum(run.status in MigrationRun.FINISHED for run in runs)
    pending = [run for run in runs if run.status == MigrationRun.Status.PENDING and run.scheduled_for is None]
    failed = [run for run in runs if run.status in FAILURES]
    if stop_on_failure and failed:
        for run in pending:
            migration_log(run, "WARNING", f"Not started: migration {failed[0].session_id} of its batch failed "
                                          "and the batch stops on failure.")
        return finished, len(runs), True
    busy = sum(run.status in MigrationRun.BUSY for run in runs)
    for run in pending[:max(parallel_limit - busy, 0)]:
        try:
            migration_start(run, started_by=started_by, check=False)
        except Conflict:  # the tenant's limits are full: this one waits for the next round
            return finished, len(runs), False
        pending.remove(run)
    return finished, len(runs), not pending
