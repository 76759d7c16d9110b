"""A job type's `on_end` learns how each of its jobs ended, however it ended: its function returned or raised on a
real worker, it was cancelled queued or running, its worker was killed and the reaper failed it, the queue could not
take it. It is told once per end, in the transaction that ends the job (testapp.watched notes each end as a Note)."""
import logging

import pytest
from django.db import transaction

from apps.jobs.models import Job
from apps.jobs.services import job_enqueue, job_request_cancel, jobs_reap_stale
from tests.testapp.models import Note

from .conftest import job_in, wait_for
from .test_queue_outage import broker_down  # noqa: F401 (a fixture)
from .test_worker_crash import kill_the_worker_running


def watched(user, tenant, **params) -> Job:
    return job_enqueue("testapp.watched", params, tenant=tenant, created_by=user)


def notes_of(job: Job) -> list[str]:
    return list(Note.objects.filter(body__startswith=f"job {job.pk} ").values_list("body", flat=True))


def ended(job: Job) -> Job:
    return wait_for(lambda: job_in(job.pk, *Job.FINISHED), timeout=15, what="the job to end")


@pytest.mark.parametrize("fail, outcome", [(False, "succeeded: "), (True, "failed: ValueError: asked to fail")])
def test_the_owner_is_told_how_a_job_its_worker_ran_ended(workers, user, tenant, fail, outcome):
    job = ended(watched(user, tenant, fail=fail))

    assert notes_of(job) == [f"job {job.pk} ended {outcome}"]


def test_the_owner_is_told_when_a_running_job_is_cancelled(workers, user, tenant, user_client):
    job = watched(user, tenant, seconds=20)
    wait_for(lambda: job_in(job.pk, Job.Status.RUNNING), timeout=10, what="the job to start")

    user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert ended(job).status == Job.Status.CANCELLED
    assert notes_of(job) == [f"job {job.pk} ended cancelled: Cancelled on request."]


def test_the_owner_is_told_when_the_reaper_fails_a_job_whose_worker_died(workers, user, tenant):
    job = watched(user, tenant, seconds=20)
    Job.objects.filter(pk=job.pk).update(max_attempts=1)
    kill_the_worker_running(job.pk)
    assert notes_of(job) == []  # nobody has ended it yet

    jobs_reap_stale()

    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED
    [note] = notes_of(job)
    assert note.startswith(f"job {job.pk} ended failed: The worker stopped responding")


def test_a_job_run_again_after_its_worker_died_tells_its_owner_once_at_its_real_end(workers, user, tenant):
    job = watched(user, tenant, seconds=1.5)
    kill_the_worker_running(job.pk)

    jobs_reap_stale()  # one attempt of two is spent: it is queued again, not ended

    assert ended(job).status == Job.Status.SUCCEEDED
    assert notes_of(job) == [f"job {job.pk} ended succeeded: "]


def test_the_owner_is_told_in_the_same_request_when_a_queued_job_is_cancelled(user, tenant, user_client):
    job = watched(user, tenant)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.json()["status"] == "cancelled"
    assert notes_of(job) == [f"job {job.pk} ended cancelled: Cancelled before it started."]


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_told_when_the_queue_could_not_take_the_job(broker_down, user, tenant):  # noqa: F811
    with pytest.raises(Exception, match="job queue is unavailable"):
        watched(user, tenant)

    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert notes_of(job) == [f"job {job.pk} ended failed: {job.error}"]


def test_the_owners_record_and_the_jobs_end_commit_or_roll_back_together(user, tenant):
    job = watched(user, tenant)

    with pytest.raises(RuntimeError), transaction.atomic():
        job_request_cancel(job)
        assert len(notes_of(job)) == 1
        raise RuntimeError("the request failed after the cancel")

    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    assert notes_of(job) == []


def test_an_on_end_that_fails_is_logged_and_undone_and_the_job_still_ends(user, tenant, user_client, caplog):
    job = watched(user, tenant, break_on_end=True)

    with caplog.at_level(logging.ERROR, logger="tessera.jobs"):
        response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED
    assert notes_of(job) == []  # what it wrote before failing is undone with it
    assert f"on_end failed for job {job.pk}" in caplog.text
