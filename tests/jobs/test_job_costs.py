"""What a job costs the database and the queue, counted on the real services (`make bench-jobs` measures the speed).

A job is one queued task; its run is its claim, its report and its end, each written with its change event; the
relay of its events and the queue's own bookkeeping must not add a task or a row per job.
"""
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Success
from django_q.tasks import async_task

from apps.jobs.broker import queue_unless_waiting, task_started
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.jobs.services import job_enqueue

from .conftest import run_to_the_end, wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # commits matter: the hand-offs wait for them


def statement(sql: str) -> str:
    """`BEGIN`, `INSERT INTO "events_event"`, `UPDATE jobs_job`, `WITH reported AS`...: the statement's first words."""
    words = sql.split()
    return " ".join(words[:3]) if words[0] in ("INSERT", "UPDATE", "SELECT", "WITH") else words[0]


def test_a_job_run_costs_its_claim_report_and_end_each_with_its_event(user, tenant, handed_over):
    """Nine statements: the claim and the end each in a transaction with their event, the report in one statement
    (the job's row and its log line, progress.REPORT_WITH_LINE)."""
    job = job_enqueue("jobs.probe", {"seconds": 0, "steps": 1}, tenant=tenant, created_by=user)

    with CaptureQueriesContext(connection) as queries:
        run_job(job.pk)

    assert [statement(query["sql"]) for query in queries] == [
        "BEGIN", "UPDATE jobs_job SET", 'INSERT INTO "events_event"', "COMMIT",  # claimed: job.running
        "WITH reported AS",  # its one progress report, with its log line
        "BEGIN", 'UPDATE "jobs_job" SET', 'INSERT INTO "events_event"', "COMMIT",  # ended: job.succeeded
    ]


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the mark lives in the Redis broker (REDIS_URL)")
def test_hand_offs_while_a_task_waits_in_the_queue_queue_nothing_more():
    mark = "tests-job-costs"  # `time.time`, queued under it, never clears it: only this test does
    task_started(mark)

    queued = [queue_unless_waiting("time.time", task_name="costs", mark=mark) for _ in range(3)]
    task_started(mark)  # the waiting task starts: what is committed from now on needs a task of its own
    queued_after_start = queue_unless_waiting("time.time", task_name="costs", mark=mark)
    task_started(mark)

    assert queued == [True, False, False]
    assert queued_after_start is True


def test_a_succeeded_job_leaves_no_result_row_in_the_queue(workers, user_client):
    job = run_to_the_end(user_client, "jobs.probe", {"seconds": 0})
    # A task the monitor saves, queued after the job ended: once its row is there, the job's result was handled.
    marker = async_task("time.time", task_name=f"after-job-{job.pk}")
    wait_for(lambda: Success.objects.filter(id=marker).exists(), timeout=15, what="the marker task's result")

    assert job.status == Job.Status.SUCCEEDED
    assert not Success.objects.filter(name=f"job-{job.pk}").exists()  # the job's row is its record
