"""`run_job(job_id)`: the single django-q2 entry point. It claims the job, runs its function, records the end."""
import logging
import os
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from apps.platform.request_context import request_id_bound

from . import events
from .models import Job, JobLog
from .progress import JobCancelled, JobTimedOut, Progress, RetryableError
from .registry import registry
from .services import RUNNER, _finish, stale_after

logger = logging.getLogger("tessera.jobs")

#: Seconds before attempt n+1 of a retryable failure: 30 s, 60 s, 120 s, ... (the scheduler ticks every 30 s).
RETRY_BASE_DELAY = 30


def run_job(job_id: int) -> None:
    job = _claim(job_id)
    if job is None:
        return
    job_type = registry.get(job.type)
    with request_id_bound(job.request_id), Progress(job) as progress:
        try:
            if job_type is None:
                raise LookupError(f"No job type {job.type!r} is registered in this worker.")
            result = job_type.function(job.params, progress)
        except JobCancelled:
            _end(job, Job.Status.CANCELLED, error="Cancelled on request.")
        except JobTimedOut as error:
            _end(job, Job.Status.FAILED, error=str(error))
        except RetryableError as error:
            _retry_or_fail(job, error)
        except Exception as error:
            logger.exception("Job %s (%s) failed", job.pk, job.type)
            _end(job, Job.Status.FAILED, error=f"{type(error).__name__}: {error}")
        else:
            _end(job, Job.Status.SUCCEEDED, result=result if result is not None else {})


@transaction.atomic
def _claim(job_id: int) -> Job | None:
    """Move the job to running, once. A duplicate delivery finds it running (with a live heartbeat) or finished
    and leaves it alone; a delivery that finds it running with a stale heartbeat takes over from a dead worker."""
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
    transaction.on_commit(lambda: events.publish(job))
    return job


def _end(job: Job, status: str, *, error: str = "", result=None) -> None:
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        locked.progress, locked.step, locked.message = job.progress, job.step, job.message
        _finish(locked, status, error=error, result=result)


def _retry_or_fail(job: Job, error: Exception) -> None:
    if job.attempts >= job.max_attempts:
        _end(job, Job.Status.FAILED, error=f"{error} (gave up after {job.attempts} attempts)")
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
