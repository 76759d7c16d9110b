"""Export and import of tasks through real workers: the file round-trips the same tasks into another tenant."""
import csv
import io
import json
from datetime import date

import pytest

from apps.jobs.models import Job
from apps.tasks.models import Task
from tests.conftest import CANARY

from .conftest import run_to_the_end

FIELDS = ("title", "description", "status", "priority", "due_date")


@pytest.fixture
def tasks(user, tenant):
    return [
        Task.objects.create(tenant=tenant, user=user, title="Plain", priority=Task.Priority.LOW),
        Task.objects.create(tenant=tenant, user=user, title='Commas, "quotes" and\nnewlines', description="Ünïcode ✓",
                            status=Task.Status.IN_PROGRESS, priority=Task.Priority.CRITICAL, due_date=date(2030, 1, 31)),
        Task.objects.create(tenant=tenant, user=user, title="Done", status=Task.Status.COMPLETED,
                            priority=Task.Priority.HIGH),
    ]


def described(queryset) -> list[tuple]:
    return sorted(queryset.values_list(*FIELDS))


@pytest.mark.parametrize("format", ["csv", "json"])
def test_an_export_imported_into_another_tenant_recreates_the_same_tasks(workers, tasks, user, tenant, user_client,
                                                                         other_user, other_tenant_client, format):
    export = run_to_the_end(user_client, "tasks.export", {"format": format})
    content = user_client.get(f"/api/v1/jobs/{export.pk}/file").content.decode()

    imported = run_to_the_end(other_tenant_client, "tasks.import", {"format": format, "content": content})

    assert (export.status, export.result) == (Job.Status.SUCCEEDED, {"exported": 3, "format": format})
    assert (imported.status, imported.result) == (Job.Status.SUCCEEDED, {"created": 3, "rejected": []})
    assert described(Task.objects.filter(user=other_user)) == described(Task.objects.filter(user=user, tenant=tenant))


@pytest.mark.parametrize("format, content_type", [("csv", "text/csv"), ("json", "application/json")])
def test_an_export_holds_the_callers_tasks_only_in_the_file_of_its_format(workers, tasks, second_user_task,
                                                                          other_tenant_task, user_client, format,
                                                                          content_type):
    export = run_to_the_end(user_client, "tasks.export", {"format": format})

    response = user_client.get(f"/api/v1/jobs/{export.pk}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="tasks.{format}"'
    rows = json.loads(response.content) if format == "json" else list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(row["title"] for row in rows) == sorted(task.title for task in tasks)
    assert CANARY not in response.content.decode()


def test_an_import_reports_rejected_rows_by_number_and_writes_only_the_valid_ones(workers, user, user_client):
    content = "title,status,priority\nFirst,pending,high\n,pending,low\nThird,sleeping,low\nFourth,completed,medium\n"

    job = run_to_the_end(user_client, "tasks.import", {"format": "csv", "content": content})

    assert job.status == Job.Status.SUCCEEDED
    assert job.result["created"] == 2
    assert [(rejected["row"], sorted(rejected["errors"])) for rejected in job.result["rejected"]] == [
        (2, ["title"]), (3, ["status"])]
    assert sorted(Task.objects.filter(user=user).values_list("title", flat=True)) == ["First", "Fourth"]


def test_an_import_of_content_that_is_not_a_list_of_objects_writes_nothing(workers, user, user_client):
    job = run_to_the_end(user_client, "tasks.import", {"format": "json", "content": '{"title": "not a list"}'})

    assert job.result["created"] == 0
    assert job.result["rejected"][0]["row"] is None
    assert not Task.objects.filter(user=user).exists()


def test_an_import_of_deeply_nested_json_is_rejected_content_not_a_crash(workers, user, user_client):
    content = "[" * 10_000 + "]" * 10_000

    job = run_to_the_end(user_client, "tasks.import", {"format": "json", "content": content})

    assert job.status == Job.Status.SUCCEEDED
    assert job.result["created"] == 0
    assert "nests deeper" in job.result["rejected"][0]["errors"]["content"][0]
