"""`run_job(job_id)`: the single django-q2 entry point. It claims the job, runs its function, records the end.

Every change to the job's row goes through the services (claim, finish, retry); the runner only maps how the
function ended onto them.
"""
import logging

from apps.platform.request_context import request_id_bound

from .models import Job
from .progress import JobCancelled, JobTimedOut, Progress, RetryableError
from .registry import registry
from .services import job_claim, job_fail_or_retry, job_finish

logger = logging.getLogger("tessera.jobs")


def run_job(job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    job_type = registry.get(job.type)
    with request_id_bound(job.request_id), Progress(job) as progress:
        try:
            if job_type is None:
                raise LookupError(f"No job type {job.type!r} is registered in this worker.")
            result = job_type.function(job.params, progress)
        except JobCancelled:
            job_finish(job, status=Job.Status.CANCELLED, error="Cancelled on request.")
        except JobTimedOut as error:
            job_finish(job, status=Job.Status.FAILED, error=str(error))
        except RetryableError as error:
            job_fail_or_retry(job, error=error)
        except Exception as error:
            logger.exception("Job %s (%s) failed", job.pk, job.type)
            job_finish(job, status=Job.Status.FAILED, error=f"{type(error).__name__}: {error}")
        else:
            job_finish(job, status=Job.Status.SUCCEEDED, result=result if result is not None else {})
