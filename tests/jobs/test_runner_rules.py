"""The runner's rules, run in-process: retries with backoff, failures, timeouts, and claiming a job once."""
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.jobs.services import job_enqueue, jobs_reap_stale

pytestmark = pytest.mark.django_db(transaction=True)


def enqueue(type_name, user, tenant, **params) -> Job:
    return job_enqueue(type_name, params, tenant=tenant, created_by=user)


def test_a_retryable_failure_requeues_the_job_with_a_scheduled_backoff(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=1)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 1)
    retry = Schedule.objects.get(name=f"job-{job.pk}-retry-1")
    assert 25 <= (retry.next_run - timezone.now()).total_seconds() <= 31
    assert "retrying in 30 s" in job.logs.last().message


def test_the_next_attempt_after_a_retryable_failure_can_succeed(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=1)
    run_job(job.pk)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempts": 2})


def test_retries_are_bounded_and_back_off_exponentially(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=5)

    run_job(job.pk)
    run_job(job.pk)
    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in job.error
    second_delay = Schedule.objects.get(name=f"job-{job.pk}-retry-2").next_run
    first_delay = Schedule.objects.get(name=f"job-{job.pk}-retry-1").next_run
    assert (second_delay - first_delay).total_seconds() >= 25


def test_an_ordinary_exception_fails_the_job_at_once_with_its_message(user, tenant):
    job = enqueue("testapp.broken", user, tenant)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "ZeroDivisionError: division by zero")


def test_a_job_that_outruns_its_timeout_fails_saying_so(user, tenant):
    job = enqueue("testapp.slow", user, tenant)

    run_job(job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "Timed out after 1 s."


def test_a_job_is_claimed_once_so_a_duplicate_delivery_does_nothing(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=0)
    run_job(job.pk)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 1)


def test_a_queued_job_cancelled_before_a_worker_claims_it_never_runs(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=0)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("cancelled", 0)


def test_a_queued_job_no_worker_claimed_is_handed_to_the_queue_again_and_then_runs(user, tenant):
    job = enqueue("testapp.flaky", user, tenant, failures=0)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(queued_at=an_hour_ago)

    counts = jobs_reap_stale()

    assert counts["handed_again"] == 1
    job.refresh_from_db()
    assert job.queued_at > an_hour_ago
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_a_recently_queued_job_is_left_waiting(user, tenant):
    enqueue("testapp.flaky", user, tenant, failures=0)

    assert jobs_reap_stale()["handed_again"] == 0
