"""Live job events over the channel layer. Group names come from here for senders and consumers alike."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from apps.api import events as change_events

if TYPE_CHECKING:
    from .models import Job

PROGRESS = "job.progress"
FINISHED = "job.finished"
#: Seconds a publish may wait for the channel layer before the job carries on without it.
PUBLISH_TIMEOUT = 5

logger = logging.getLogger("tessera.jobs")


def job_group(job_id: int) -> str:
    """Everyone watching one job."""
    return f"job-{job_id}"


def owner_group(tenant_id: int, user_id: int) -> str:
    """Everyone watching all the jobs one user owns in one tenant (the visibility of GET /jobs/)."""
    return f"jobs-tenant-{tenant_id}-user-{user_id}"


def job_event(job: Job) -> dict[str, Any]:
    """The message of API.md: type, job_id, status, progress, step, plus the latest message."""
    return {"type": FINISHED if job.status in job.FINISHED else PROGRESS, "job_id": job.pk, "status": job.status,
            "progress": job.progress, "step": job.step, "message": job.message, "job_type": job.type}


def announce(job: Job) -> None:
    """The job's status changed (its row is saved, in the caller's transaction): record the change event
    `job.<status>` in that transaction, and publish the job's state to its watchers once it commits."""
    change_events.emit(job, job.status)
    transaction.on_commit(lambda: publish(job))


def publish(job: Job) -> None:
    """Send the job's current state to its watchers. A channel layer outage is logged; the job carries on."""
    layer = get_channel_layer()
    groups = [job_group(job.pk), owner_group(job.tenant_id, job.created_by_id)]
    message = {"type": "job.event", "event": job_event(job)}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(_send)(layer, groups, message)  # must run on the server's own loop
        else:
            asyncio.run_coroutine_threadsafe(_send(layer, groups, message), _publisher_loop()).result(PUBLISH_TIMEOUT)
    except Exception:
        logger.error("Could not publish job %s's progress to the channel layer", job.pk, exc_info=True)


async def _send(layer, groups: list[str], message: dict) -> None:
    await asyncio.gather(*(layer.group_send(group, message) for group in groups))


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
