"""Live job events over the channel layer. Group names come from here for senders and consumers alike."""
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

PROGRESS = "job.progress"
FINISHED = "job.finished"


def job_group(job_id: int) -> str:
    """Everyone watching one job."""
    return f"job-{job_id}"


def owner_group(tenant_id: int, user_id: int) -> str:
    """Everyone watching all the jobs one user owns in one tenant (the visibility of GET /jobs/)."""
    return f"jobs-tenant-{tenant_id}-user-{user_id}"


def job_event(job) -> dict:
    """The message of API.md: type, job_id, status, progress, step, plus the latest message."""
    return {"type": FINISHED if job.status in job.FINISHED else PROGRESS, "job_id": job.pk, "status": job.status,
            "progress": job.progress, "step": job.step, "message": job.message, "job_type": job.type}


def publish(job) -> None:
    """Send the job's current state to its watchers. A channel layer outage must not fail the job."""
    layer = get_channel_layer()
    event = {"type": "job.event", "event": job_event(job)}
    send = async_to_sync(layer.group_send)
    send(job_group(job.pk), event)
    send(owner_group(job.tenant_id, job.created_by_id), event)
