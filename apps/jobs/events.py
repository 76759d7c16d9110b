"""Live job events over the channel layer. Group names come from here for senders and consumers alike."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

if TYPE_CHECKING:
    from .models import Job, JobLog

PROGRESS = "job.progress"
FINISHED = "job.finished"
LOG_LINE = "log.line"
#: Seconds a publish may wait for the channel layer before the job carries on without it.
PUBLISH_TIMEOUT = 5

logger = logging.getLogger("tessera.jobs")


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
    """The message of API.md: type, job_id, status, progress, step, plus the latest message."""
    return {"type": FINISHED if job.status in job.FINISHED else PROGRESS, "job_id": job.pk, "status": job.status,
            "progress": job.progress, "step": job.step, "message": job.message, "job_type": job.type}


def log_event(line: JobLog) -> dict[str, Any]:
    """One log line as it was written: the fields of GET /agents/{id}/logs, with its id and the job's."""
    return {"type": LOG_LINE, "id": line.pk, "job_id": line.job_id,
            "timestamp": line.created_at.isoformat().replace("+00:00", "Z"), "level": line.level, "step": line.step,
            "message": line.message, "progress": line.progress}


def publish(job: Job, *, line: JobLog | None = None) -> None:
    """Send the job's current state to its watchers and `line`, a log line it just wrote, to its log's readers.
    A channel layer outage is logged; the job carries on."""
    deliveries = dict.fromkeys([job_group(job.pk), owner_group(job.tenant_id, job.created_by_id)], job_event(job))
    if line is not None:
        deliveries[log_group(job.pk)] = log_event(line)
    send(deliveries, what=f"job {job.pk}'s progress")


def send(deliveries: dict[str, dict[str, Any]], *, what: str, handler: str = "job.event") -> None:
    """Deliver each group its event, from sync code in any process, to the consumers' `handler` method
    (`job.event` -> `job_event(message)`, the event in `message["event"]`). A channel layer outage is logged
    (naming `what` was sent), never raised: the sender carries on."""
    layer = get_channel_layer()
    messages = {group: {"type": handler, "event": event} for group, event in deliveries.items()}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(_send)(layer, messages)  # must run on the server's own loop
        else:
            asyncio.run_coroutine_threadsafe(_send(layer, messages), _publisher_loop()).result(PUBLISH_TIMEOUT)
    except Exception:
        logger.error("Could not publish %s to the channel layer", what, exc_info=True)


async def _send(layer, messages: dict[str, dict]) -> None:
    await asyncio.gather(*(layer.group_send(group, message) for group, message in messages.items()))


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, kept running, so the Redis layer's connection pool (which is per loop) is
    reused: async_to_sync from sync code would build a fresh loop, and two new connections, per publish."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():  # a forked worker must not use its parent's loop
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="channel-layer-publisher", daemon=True).start()
        return _loop
