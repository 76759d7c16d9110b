"""State changes of jobs. Every transition happens here, under a row lock, and the queue hand-off waits for commit."""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from rest_framework.utils.encoders import JSONEncoder

from apps.api import events as change_events
from apps.api.errors import Conflict, PermissionDenied, Unavailable, ValidationFailed
from apps.api.serializers import NULL_CHARACTER_MESSAGE, null_character_paths
from apps.platform.request_context import current_request_id

from . import events
from .broker import queue_task
from .conf import jobs_settings
from .models import Job, JobFile, JobLog, TenantJobLimits
from .registry import JobType, OnEnd, registry

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

RUNNER = "apps.jobs.runner.run_job"

#: Seconds before attempt n+1 of a retryable failure: 30 s, 60 s, 120 s, ... (the scheduler ticks every 30 s).
RETRY_BASE_DELAY = 30

logger = logging.getLogger("tessera.jobs")


def _hand_to_queue(job_id: int, *, refuse_when_down: bool = False) -> None:
    """Give the job to django-q2 once the surrounding transaction commits, so a worker never sees a job that
    was rolled back or not yet written.

    A broker that cannot take it (Redis down) fails the job at once with the reason: otherwise it would stay
    queued forever, holding one of its tenant's concurrent-job slots. With `refuse_when_down` the caller
    (a request that would answer "queued") then gets `Unavailable`, a 503, raised out of the commit: the
    failed row is already committed, so the answer and the row say the same thing. Background callers
    (the reaper) leave it off, so one unreachable broker does not stop them.
    """

    def hand_over():
        try:
            queue_task(RUNNER, job_id, task_name=f"job-{job_id}")
        except Exception as error:
            logger.error("Could not hand job %s to the queue", job_id, exc_info=True)
            with transaction.atomic():
                job = Job.objects.select_for_update().filter(pk=job_id, status=Job.Status.QUEUED).first()
                if job is not None:
                    _finish(job, Job.Status.FAILED,
                            error=f"The job queue could not take it ({type(error).__name__}); retry it later.")
            if refuse_when_down:
                raise Unavailable(f"The job queue is unavailable, so job {job_id} was not queued; it is recorded "
                                  "as failed. Retry it shortly.", details={"job_id": [str(job_id)]}) from None

    transaction.on_commit(hand_over)


def validated_params(job_type: JobType, params: object) -> dict[str, Any]:
    serializer = job_type.params(data=params if isinstance(params, dict) else None)
    if not serializer.is_valid():
        details = serializer.errors if isinstance(params, dict) else {"non_field_errors": ["Must be an object."]}
        raise ValidationFailed("The params do not fit this job type.", details={"params": details})
    nul_paths = null_character_paths(serializer.validated_data, "params")
    if nul_paths:  # jsonb refuses NUL: the job row could not be written
        raise ValidationFailed("The params do not fit this job type.",
                               details={path: [NULL_CHARACTER_MESSAGE] for path in nul_paths})
    return dict(serializer.validated_data)


@transaction.atomic
def job_enqueue(type_name: str, params: dict[str, Any], *, tenant: Tenant, created_by: User | None,
                priority: int = 0) -> Job:
    """Create a job and queue it. Raises 409 when the tenant already runs as many jobs as its limit allows,
    and 503 once committed when the queue cannot take it (the job is then recorded as failed).

    The tenant's job limits row is locked so concurrent requests count each other's jobs: the limit cannot be
    overshot.
    """
    job_type = registry.get(type_name)
    if job_type is None:
        raise ValidationFailed(details={"type": [f'"{type_name}" is not a job type.']})
    clean = validated_params(job_type, params)
    limit = TenantJobLimits.locked_for(tenant.pk).max_concurrent_jobs
    active = Job.objects.filter(tenant=tenant, status__in=Job.ACTIVE).count()
    if active >= limit:
        raise Conflict(f"This tenant already has {active} jobs queued or running, its limit. "
                       "Wait for one to finish or cancel one.", details={"limit": [str(limit)]})
    job = Job.objects.create(
        tenant=tenant, created_by=created_by, type=type_name, params=_json_safe(clean), priority=priority,
        max_attempts=job_type.max_attempts, timeout_seconds=job_type.timeout, queued_at=timezone.now(),
        request_id=current_request_id())
    change_events.emit(job, job.status)  # job.queued
    _hand_to_queue(job.pk, refuse_when_down=True)
    return job


def job_create(*, type: str, tenant: Tenant, created_by: User, scopes: Collection[str],
               params: dict[str, Any] | None = None, priority: int = 0) -> Job:
    """POST /jobs/: only public job types, and only with the scope the type asks for. Omitted params are `{}`,
    which the job type's own params serializer accepts or refuses."""
    job_type = registry.get(type)
    if job_type is None or not job_type.public:
        raise ValidationFailed(details={"type": [f'"{type}" is not a job type you can start.']})
    if job_type.scope and job_type.scope not in scopes:
        raise PermissionDenied(f"Starting a {type} job needs the '{job_type.scope}' scope.")
    return job_enqueue(type, {} if params is None else params, tenant=tenant, created_by=created_by,
                       priority=priority)


def _json_safe(params: dict) -> dict:
    """Validated data may hold dates and decimals; the job's params column holds their JSON form."""
    return json.loads(json.dumps(params, cls=JSONEncoder))


@transaction.atomic
def job_request_cancel(job: Job, *, requested_by: User | None = None) -> Job:
    """Queued jobs are cancelled at once; running ones are flagged and stop at their next report (within ~2 s)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not job.can_cancel():
        raise Conflict(f"A {job.status} job cannot be cancelled.")
    if job.status == Job.Status.QUEUED:
        _finish(job, Job.Status.CANCELLED, error="Cancelled before it started.")
    else:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested", "updated_at"])
    return job


@transaction.atomic
def job_retry(job: Job, *, requested_by: User | None = None) -> Job:
    """Run a failed or cancelled job again, from the start, as a fresh attempt series."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not job.can_retry():
        raise Conflict(f"A {job.status} job cannot be retried; only failed or cancelled ones.")
    limit = TenantJobLimits.locked_for(job.tenant_id).max_concurrent_jobs
    if Job.objects.filter(tenant_id=job.tenant_id, status__in=Job.ACTIVE).count() >= limit:
        raise Conflict("This tenant already runs as many jobs as its limit allows.")
    job.status, job.progress, job.step, job.message, job.error = Job.Status.QUEUED, 0, "", "", ""
    job.result, job.attempts, job.cancel_requested, job.worker_pid = None, 0, False, None
    job.queued_at, job.started_at, job.finished_at, job.heartbeat_at = timezone.now(), None, None, None
    job.save(update_fields=["status", "progress", "step", "message", "error", "result", "attempts",
                            "cancel_requested", "worker_pid", "queued_at", "started_at", "finished_at",
                            "heartbeat_at", "updated_at"])
    events.announce(job)  # before the hand-off, so "queued" precedes "running"
    _hand_to_queue(job.pk, refuse_when_down=True)
    return job


@transaction.atomic
def job_delete(job: Job) -> None:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not job.can_delete():
        raise Conflict(f"A {job.status} job cannot be deleted; cancel it first.")
    job.delete()


def _finish(job: Job, status: str, *, error: str = "", result=None) -> None:
    """Record the end of a job whose row the caller holds locked, tell its type's `on_end` in the same transaction,
    and its watchers once committed. Every way a job ends comes through here (the runner, a cancel before it
    started, the reaper, the queue refusing it), so this is the one place an owner learns of it."""
    job.status, job.error, job.finished_at = status, error, timezone.now()
    if result is not None:
        job.result = result
    if status == Job.Status.SUCCEEDED:
        job.progress = 100
    job.save(update_fields=["status", "error", "result", "progress", "finished_at", "updated_at"])
    events.announce(job)
    _tell_owner(job)


def _on_end(job: Job) -> OnEnd | None:
    job_type = registry.get(job.type)
    return job_type.on_end if job_type is not None else None


def _tell_owner(job: Job) -> None:
    """Call the job type's `on_end(job)` in a savepoint of the transaction that ends the job. A hook that fails is
    logged and its writes undone, but the job's end stands: a job kept `running` by its owner's bug would hold a
    slot of its tenant's limit, and be reaped (and the hook fail) again every minute."""
    on_end = _on_end(job)
    if on_end is None:
        return
    try:
        with transaction.atomic():
            on_end(job)
    except Exception:
        logger.exception("The %s job type's on_end failed for job %s; the job's end is kept", job.type, job.pk)


def job_lock(job_id: int | None) -> Job | None:
    """Lock a job's row, in the caller's transaction, before the caller locks its own row that follows the job
    (an agent, a migration run). A job ends with its row locked and then its `on_end` writes the owner's row;
    a service taking the two in the other order could deadlock with a job ending at that moment."""
    if job_id is None:
        return None
    return Job.objects.select_for_update().filter(pk=job_id).first()


def job_claim(job_id: int) -> Job | None:
    """Move the job to running, once, for this worker process; None when there is nothing to run.

    A queued job nobody asked to cancel, the usual case, is claimed by one `UPDATE ... RETURNING`, which is
    atomic on its own: a duplicate delivery's UPDATE finds it running and matches nothing. Every other case
    takes the locked path: a delivery that finds it running with a stale heartbeat takes over from a dead
    worker, one that finds it running (with a live heartbeat) or finished leaves it alone, and a job cancelled
    while queued ends there without running.
    """
    with events.announcing(Job.Status.RUNNING):
        job = _claim_queued(job_id)
        if job is not None:
            events.announce(job, wait=False)  # the job's end waits for this message (job_finish)
    return job if job is not None else _claim_locked(job_id)


def _claim_queued(job_id: int) -> Job | None:
    now, table = timezone.now(), Job._meta.db_table
    claimed = list(Job.objects.raw(
        f"UPDATE {table} SET status = %s, attempts = attempts + 1, worker_pid = %s, heartbeat_at = %s,"
        f" started_at = COALESCE(started_at, %s), updated_at = %s"
        f" WHERE id = %s AND status = %s AND NOT cancel_requested RETURNING *",
        [Job.Status.RUNNING, os.getpid(), now, now, now, job_id, Job.Status.QUEUED]))
    return claimed[0] if claimed else None


@transaction.atomic
def _claim_locked(job_id: int) -> Job | None:
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return None
    taking_over = job.status == Job.Status.RUNNING and (
        job.heartbeat_at is None or job.heartbeat_at < timezone.now() - stale_after())
    if job.status != Job.Status.QUEUED and not taking_over:
        return None
    if job.cancel_requested:
        _finish(job, Job.Status.CANCELLED, error="Cancelled before it started.")
        return None
    now = timezone.now()
    job.status, job.attempts, job.worker_pid, job.heartbeat_at = Job.Status.RUNNING, job.attempts + 1, os.getpid(), now
    job.started_at = job.started_at or now
    job.save(update_fields=["status", "attempts", "worker_pid", "heartbeat_at", "started_at", "updated_at"])
    events.announce(job)
    return job


def job_finish(job: Job, *, status: str, error: str = "", result: Any = None) -> None:
    """Record how a running job ended. `job` is the worker's copy: its last progress, step and message (which
    the progress reports wrote without a lock) are kept with the outcome. One UPDATE of the outcome's columns,
    which waits for any transaction holding the row as a lock would (in a transaction with its change event when
    that is announced, and with its type's `on_end` when it has one); the other columns are left as they are."""
    with transaction.atomic() if _on_end(job) is not None else events.announcing(status):
        _finish(job, status, error=error, result=result)


def job_fail_or_retry(job: Job, *, error: Exception) -> None:
    """A retryable failure: queue the job again after a backoff while it has attempts left, else fail it."""
    if job.attempts >= job.max_attempts:
        job_finish(job, status=Job.Status.FAILED, error=f"{error} (gave up after {job.attempts} attempts)")
        return
    delay = RETRY_BASE_DELAY * 2 ** (job.attempts - 1)
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, queued_at=timezone.now(), worker_pid=None,
                                             message=f"Retrying in {delay} s: {error}", updated_at=timezone.now())
        JobLog.objects.create(job=job, level=JobLog.Level.WARNING, progress=job.progress, step=job.step,
                              message=f"Attempt {job.attempts} failed ({error}); retrying in {delay} s.")
        transaction.on_commit(lambda: Schedule.objects.create(
            name=f"job-{job.pk}-retry-{job.attempts}", func=RUNNER, args=str(job.pk), schedule_type=Schedule.ONCE,
            next_run=timezone.now() + timedelta(seconds=delay), repeats=1))


def job_store_file(job: Job, *, name: str, content_type: str, content: bytes) -> None:
    """Keep the file a job produced (replacing an earlier attempt's), for GET /jobs/{id}/file."""
    JobFile.objects.update_or_create(job=job, defaults={"name": name, "content_type": content_type,
                                                        "content": content})


def _rehand_unclaimed() -> int:
    cutoff = timezone.now() - timedelta(seconds=jobs_settings.REHAND_AFTER_SECONDS)
    with transaction.atomic():
        waiting = list(Job.objects.select_for_update(skip_locked=True)
                       .filter(status=Job.Status.QUEUED, queued_at__lt=cutoff, cancel_requested=False))
        for job in waiting:
            Job.objects.filter(pk=job.pk).update(queued_at=timezone.now())
            _hand_to_queue(job.pk)
    return len(waiting)


def stale_after() -> timedelta:
    return timedelta(seconds=jobs_settings.STALE_AFTER_SECONDS)


def jobs_reap_stale() -> dict[str, int]:
    """Find jobs whose worker died (no heartbeat for STALE_AFTER_SECONDS) and re-run or fail them, and hand
    queued jobs that no worker claimed for REHAND_AFTER_SECONDS to the queue again.

    A running job with attempts left is queued again; the others fail with the reason. Each job is handled
    under its row lock with SKIP LOCKED, so reapers in several processes never handle the same job twice.
    A queued job can be lost by the broker (a worker killed while holding tasks it had taken); handing it
    over again is safe because a job is claimed once, and a second delivery finds it taken.
    """
    counts = {"requeued": 0, "failed": 0, "handed_again": _rehand_unclaimed()}
    cutoff = timezone.now() - stale_after()
    while True:
        with transaction.atomic():
            job = (Job.objects.select_for_update(skip_locked=True)
                   .filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff).first())
            if job is None:
                return counts
            reason = f"The worker stopped responding (no heartbeat for {stale_after().seconds} s)."
            JobLog.objects.create(job=job, level=JobLog.Level.ERROR, progress=job.progress, step=job.step,
                                  message=reason)
            if job.attempts < job.max_attempts and not job.cancel_requested:
                job.status, job.queued_at, job.worker_pid = Job.Status.QUEUED, timezone.now(), None
                job.save(update_fields=["status", "queued_at", "worker_pid", "updated_at"])
                _hand_to_queue(job.pk)
                counts["requeued"] += 1
            else:
                status = Job.Status.CANCELLED if job.cancel_requested else Job.Status.FAILED
                _finish(job, status, error=reason)
                counts["failed"] += 1
