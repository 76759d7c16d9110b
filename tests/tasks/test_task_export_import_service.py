"""Export and import as the job functions run them, in-process (the worker-driven round trip is in tests/jobs)."""
import json

import pytest

from apps.jobs.models import Job, JobFile
from apps.jobs.runner import run_job
from apps.jobs.services import job_enqueue
from apps.tasks.models import Task

pytestmark = pytest.mark.django_db(transaction=True)


def run(type_name, user, tenant, **params) -> Job:
    job = job_enqueue(type_name, params, tenant=tenant, created_by=user)
    run_job(job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("format", ["csv", "json"])
def test_an_export_holds_every_task_of_the_caller_in_the_format_asked(user, tenant, second_user, format):
    Task.objects.create(tenant=tenant, user=user, title="Mine, with a comma", priority="high")
    Task.objects.create(tenant=tenant, user=second_user, title="Someone else's")

    job = run("tasks.export", user, tenant, format=format)

    content = bytes(JobFile.objects.get(job=job).content).decode()
    assert (job.status, job.result) == ("succeeded", {"exported": 1, "format": format})
    assert "Mine, with a comma" in content and "Someone else's" not in content


def test_an_import_creates_the_valid_rows_and_reports_the_rejected_ones_by_number(user, tenant):
    content = json.dumps([{"title": "Valid", "priority": "low"}, {"title": "", "priority": "low"},
                          {"title": "Bad priority", "priority": "urgent"}])

    job = run("tasks.import", user, tenant, format="json", content=content)

    assert job.status == "succeeded"
    assert job.result["created"] == 1
    assert [row["row"] for row in job.result["rejected"]] == [2, 3]
    assert list(Task.objects.filter(user=user).values_list("title", flat=True)) == ["Valid"]


def test_an_import_of_malformed_content_writes_nothing_and_says_why(user, tenant):
    job = run("tasks.import", user, tenant, format="json", content='{"not": "a list"}')

    assert job.result == {"created": 0, "rejected": [
        {"row": None, "errors": {"content": ["JSON imports must be a list of objects."]}}]}
    assert not Task.objects.exists()


def test_a_csv_import_reads_the_header_row(user, tenant):
    job = run("tasks.import", user, tenant, format="csv", content="title,status\nFrom CSV,completed\n")

    assert job.result["created"] == 1
    assert Task.objects.get(user=user).status == "completed"
