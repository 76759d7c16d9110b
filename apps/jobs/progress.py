"""What a running job holds: `progress(percent, step, message)`, which reports and is where cancellation lands."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from . import events
from .models import Job, JobLog

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

#: How often the heartbeat thread proves the worker alive and looks for a cancel request (seconds).
HEARTBEAT_INTERVAL = 1.0


class JobCancelled(Exception):
    """Raised inside a job at its next progress report after someone asked it to stop."""


class JobTimedOut(Exception):
    """Raised inside a job at its next progress report once it has run longer than its timeout."""


class RetryableError(Exception):
    """Raise it from a job for a failure worth another attempt (a network blip), not a bug."""


@dataclass(frozen=True)
class Caller:
    """Who a job acts for: the user who started it, in the job's tenant. It carries what the access chokepoint
    reads (`scope_queryset(queryset, request=caller, resource=...)`), so a job sees exactly the rows its
    starter could see through the API."""

    user: User | None
    tenant: Tenant


def report(job: Job, *, percent: float | None = None, step: str | None = None, message: str | None = None,
           level: str = JobLog.Level.INFO) -> None:
    """Record how far a running job got, with a log line when there is a `message`, and tell its watchers (the
    line goes to its log's readers). The worker reports through `Progress`; work done elsewhere (an external agent
    service) through its own endpoint. On PostgreSQL one statement either way: the job's row, and its log line."""
    if percent is not None:
        job.progress = max(0, min(100, int(percent)))
    if step is not None:
        job.step = step[:200]
    now, line = timezone.now(), None
    job.updated_at = now  # as the statement below writes it: the message sent for this report carries it
    if message is None:
        Job.objects.filter(pk=job.pk).update(progress=job.progress, step=job.step, message=job.message,
                                             heartbeat_at=now, updated_at=now)
    else:
        job.message = message[:500]
        line = _report_with_line(job, JobLog(job=job, level=level, progress=job.progress, step=job.step,
                                             message=job.message, created_at=now), now)
    events.publish_soon(job, line=line)  # the job goes on; its end waits for these (services.job_finish)


def _report_with_line(job: Job, line: JobLog, now) -> JobLog | None:
    """The job's row moved on and its log line written; the line, or None when the job was deleted meanwhile (and
    its log with it). PostgreSQL does both in one statement; the embedded SQLite default, which has no UPDATE
    inside WITH, in two."""
    if connection.vendor != "postgresql":
        if not Job.objects.filter(pk=job.pk).update(progress=job.progress, step=job.step, message=job.message,
                                                    heartbeat_at=now, updated_at=now):
            return None
        line.save(force_insert=True)
        return line
    with connection.cursor() as cursor:
        cursor.execute(REPORT_WITH_LINE, [job.progress, job.step, job.message, now, now, job.pk,
                                          line.level, line.progress, line.step, line.message, line.created_at])
        written = cursor.fetchone()
    if written is None:
        return None
    line.pk = written[0]
    return line


#: report's statement when a message comes with it: the job's row moved on and the log line written, in one round
#: trip (the line is written only if the job still exists).
REPORT_WITH_LINE = f"""
WITH reported AS (
    UPDATE {Job._meta.db_table} SET progress = %s, step = %s, message = %s, heartbeat_at = %s, updated_at = %s
    WHERE id = %s RETURNING id
)
INSERT INTO {JobLog._meta.db_table} (job_id, level, progress, step, message, created_at)
SELECT id, %s, %s, %s, %s, %s FROM reported RETURNING id
"""


class Progress:
    """Passed to every job function. Call it as often as is natural; each call is cheap and safe.

    A heartbeat thread stamps the job every second and notices cancel requests and the timeout, so
    `progress()` itself does not have to query for them: it raises JobCancelled/JobTimedOut when flagged.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self._stop_reason: str | None = None
        self._finished = threading.Event()
        self._deadline = time.monotonic() + job.timeout_seconds
        self._heartbeat = threading.Thread(target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True)

    def __call__(self, percent: float | None = None, step: str | None = None, message: str | None = None,
                 *, level: str = JobLog.Level.INFO) -> None:
        self.raise_if_stopped()
        report(self.job, percent=percent, step=step, message=message, level=level)

    def raise_if_stopped(self) -> None:
        if self._stop_reason == "cancelled":
            raise JobCancelled("Cancelled on request.")
        if self._stop_reason == "timeout":
            raise JobTimedOut(f"Timed out after {self.job.timeout_seconds} s.")

    @property
    def caller(self) -> Caller:
        return Caller(user=self.job.created_by, tenant=self.job.tenant)

    @property
    def cancel_requested(self) -> bool:
        """For jobs that want to stop at a clean point of their own instead of at the next report."""
        return self._stop_reason is not None

    def __enter__(self) -> Progress:
        self._heartbeat.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished.set()
        self._heartbeat.join(timeout=5)

    def _beat(self):
        from django.db import connection

        try:
            while not self._finished.wait(HEARTBEAT_INTERVAL):
                Job.objects.filter(pk=self.job.pk).update(heartbeat_at=timezone.now())
                if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
                    self._stop_reason = "cancelled"
                elif time.monotonic() > self._deadline:
                    self._stop_reason = "timeout"
        finally:
            connection.close()
