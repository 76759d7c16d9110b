"""A worker killed mid-job (SIGKILL: no cleanup, no goodbye) leaves no job stuck in `running`."""
import os
import signal
import time
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from apps.jobs.models import Job, JobLog
from apps.jobs.schedules import REAPER_NAME
from apps.jobs.services import jobs_reap_stale

from .conftest import STALE_AFTER_SECONDS, job_in, wait_for


def kill_the_worker_running(job_id: int) -> Job:
    """SIGKILL the worker process of a running job, and wait until its heartbeat is stale.

    The cluster's own reaper is put off first: it runs whenever its schedule falls due, and one falling between the
    heartbeat going stale and the test's look at the job would end the job before the test reaps it itself."""
    job = wait_for(lambda: Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, worker_pid__isnull=False).first(),
                   timeout=10, what="a worker to take the job")
    Schedule.objects.filter(name=REAPER_NAME).update(next_run=timezone.now() + timedelta(hours=1))
    os.kill(job.worker_pid, signal.SIGKILL)
    time.sleep(STALE_AFTER_SECONDS + 0.5)
    return job


def test_a_job_whose_worker_was_killed_fails_with_a_reason_when_no_attempt_is_left(workers, user_client):
    job_id = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 20}},
                              format="json").json()["id"]
    kill_the_worker_running(job_id)
    assert Job.objects.get(pk=job_id).status == Job.Status.RUNNING  # nobody is left to say otherwise

    jobs_reap_stale()

    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.FAILED
    assert "worker stopped responding" in job.error
    assert job.finished_at is not None
    assert JobLog.objects.filter(job=job, level=JobLog.Level.ERROR, message__contains="stopped responding").exists()
    response = user_client.get(f"/api/v1/jobs/{job_id}/")
    assert (response.json()["status"], response.json()["error"]) == ("failed", job.error)


def test_a_job_whose_worker_was_killed_runs_again_on_another_worker_when_attempts_remain(workers, user_client):
    job_id = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 1.5}},
                              format="json").json()["id"]
    Job.objects.filter(pk=job_id).update(max_attempts=2)
    killed = kill_the_worker_running(job_id)

    counts = jobs_reap_stale()
    job = wait_for(lambda: job_in(job_id, *Job.FINISHED), timeout=15, what="the second attempt to finish")

    assert counts["requeued"] == 1
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert job.worker_pid != killed.worker_pid


def test_the_reaper_leaves_a_job_with_a_live_worker_alone(workers, user_client):
    job_id = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 20}},
                              format="json").json()["id"]
    wait_for(lambda: job_in(job_id, Job.Status.RUNNING), timeout=10, what="the probe to start")
    time.sleep(STALE_AFTER_SECONDS + 0.5)  # longer than a dead worker is given: only the heartbeat keeps it

    counts = jobs_reap_stale()

    assert (counts["requeued"], counts["failed"]) == (0, 0)
    assert Job.objects.get(pk=job_id).status == Job.Status.RUNNING
