"""Live job events over the channel layer. Group names come from here for senders and consumers alike."""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.api import events as change_events
from apps.platform import publisher

if TYPE_CHECKING:
    from .models import Job, JobLog

PROGRESS = "job.progress"
FINISHED = "job.finished"
LOG_LINE = "log.line"


def job_group(job_id: int) -> str:
    """Everyone watching one job."""
    return f"job-{job_id}"


def owner_group(tenant_id: int, user_id: int) -> str:
    """Everyone watching all the jobs one user owns in one tenant (the visibility of GET /jobs/)."""
    return f"jobs-tenant-{tenant_id}-user-{user_id}"


def log_group(job_id: int) -> str:
    """Everyone reading one job's log lines as they are written."""
    return f"job-{job_id}-log"


def job_event(job: Job) -> dict[str, Any]:
    """The message of API.md: type, job_id, status, progress, step, plus the latest message and when the job's row
    last changed (`updated_at`), which orders a job's messages."""
    return {"type": FINISHED if job.status in job.FINISHED else PROGRESS, "job_id": job.pk, "status": job.status,
            "progress": job.progress, "step": job.step, "message": job.message, "job_type": job.type,
            "updated_at": _timestamp(job.updated_at)}


def _timestamp(moment: datetime) -> str:
    """A time in the messages, as ISO 8601 in UTC with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


def is_older(event: dict[str, Any], than: dict[str, Any] | None) -> bool:
    """Whether `event` shows its job as it was before `than` (an event of the same job) does. A worker sends its
    messages while it goes on, so one still on its way can be older than what a socket has just read from the
    table; sent after it, it would move the job's progress back."""
    if than is None or than["job_id"] != event["job_id"]:
        return False
    return datetime.fromisoformat(event["updated_at"]) < datetime.fromisoformat(than["updated_at"])


def log_event(line: JobLog) -> dict[str, Any]:
    """One log line as it was written: the fields of GET /agents/{id}/logs, with its id and the job's."""
    return {"type": LOG_LINE, "id": line.pk, "job_id": line.job_id,
            "timestamp": _timestamp(line.created_at), "level": line.level, "step": line.step,
            "message": line.message, "progress": line.progress}


def announce(job: Job, *, wait: bool = True) -> None:
    """The job's status changed (its row is saved, in the caller's transaction): record the change event
    `job.<status>` in that transaction, and publish the job's state to its watchers once it commits (without
    waiting for the channel layer when `wait` is off: see `publish_soon`)."""
    change_events.emit(job, job.status)
    transaction.on_commit(lambda: publish(job) if wait else publish_soon(job))


def announcing(status: str) -> AbstractContextManager:
    """The transaction a change of a job to `status` needs: one shared with its change event when `job.<status>`
    is announced, else none (a single UPDATE is atomic on its own)."""
    from apps.api import site

    from .models import Job

    return change_events.atomic_if_announced(site.get_resource(Job), status)


def publish(job: Job) -> None:
    """Send the job's current state to its watchers, after whatever this process sent sooner (`publish_soon`),
    and wait until it is sent. A channel layer outage is logged; the job carries on."""
    publish_soon(job)
    publisher.flush()


def publish_soon(job: Job, *, line: JobLog | None = None) -> None:
    """Send the job's current state to its watchers, and `line`, a log line it just wrote, to its log's readers,
    without waiting: in order after this process's earlier messages, while the caller goes on. The runner reports
    the start and the progress of a job so, and its end with `publish`, which waits for them all: a worker spends
    no time on the channel layer's round trips until the job ends, and its messages still arrive in order."""
    deliveries = dict.fromkeys([job_group(job.pk), owner_group(job.tenant_id, job.created_by_id)], job_event(job))
    if line is not None:
        deliveries[log_group(job.pk)] = log_event(line)
    send_soon(deliveries, what=f"job {job.pk}'s progress")


def send_soon(deliveries: dict[str, dict[str, Any]], *, what: str, handler: str = "job.event") -> None:
    """Deliver each group its event, to the consumers' `handler` method (`job.event` -> `job_event(message)`, the
    event in `message["event"]`), without waiting, in order after this process's earlier messages (`publisher.flush`
    waits for them). A channel layer outage is logged, naming `what` was sent; the sender carries on."""
    publisher.send_soon({group: {"type": handler, "event": event} for group, event in deliveries.items()}, what=what)
