"""Deleting a task marks it deleted: it leaves lists and details, can be listed on request, restored, or purged."""
import pytest

from apps.tasks.models import Task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def deleted_task(user_client, task):
    assert user_client.delete(f"/api/v1/tasks/{task.id}/").status_code == 204
    return task


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_delete_keeps_the_row_with_its_deleted_at_set(deleted_task):
    row = Task.objects.get(pk=deleted_task.id)

    assert row.deleted_at is not None
    assert row.updated_at >= row.deleted_at


def test_a_deleted_task_leaves_the_list(user_client, deleted_task):
    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert deleted_task.id not in ids(response)
    assert response.json()["count"] == 0


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_a_deleted_task_is_not_found_at_its_detail_url(user_client, deleted_task, method):
    body = {"title": "Back from the dead"} if method in ("patch", "put") else None

    response = getattr(user_client, method)(f"/api/v1/tasks/{deleted_task.id}/", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Task.objects.get(pk=deleted_task.id).title == "Write the spec"


def test_include_deleted_lists_deleted_tasks_with_their_deleted_at(user_client, deleted_task, second_user_task):
    live = Task.objects.create(tenant=deleted_task.tenant, user=deleted_task.user, title="Still here")

    response = user_client.get("/api/v1/tasks/?include_deleted=true")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {deleted_task.id, live.id}  # still only your own tasks
    assert rows[deleted_task.id]["deleted_at"] is not None
    assert rows[live.id]["deleted_at"] is None


def test_include_deleted_shows_a_deleted_tasks_detail(user_client, deleted_task):
    response = user_client.get(f"/api/v1/tasks/{deleted_task.id}/?include_deleted=true")

    assert response.status_code == 200
    assert response.json()["deleted_at"] is not None


def test_include_deleted_false_is_the_default(user_client, deleted_task):
    response = user_client.get("/api/v1/tasks/?include_deleted=false")

    assert response.status_code == 200
    assert ids(response) == []


@pytest.mark.parametrize("client_name", ["viewer_client", "read_only_key_client"])
def test_include_deleted_needs_the_delete_scope(request, client_name, deleted_task):
    client = request.getfixturevalue(client_name)

    response = client.get("/api/v1/tasks/?include_deleted=true")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "tasks:delete" in response.json()["error"]["message"]


def test_include_deleted_must_be_true_or_false(user_client, deleted_task):
    response = user_client.get("/api/v1/tasks/?include_deleted=maybe")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"include_deleted": ["Must be true or false."]}


def test_restore_brings_a_deleted_task_back(user_client, deleted_task):
    response = user_client.post(f"/api/v1/tasks/{deleted_task.id}/restore")

    assert response.status_code == 200
    assert response.json()["id"] == deleted_task.id
    assert response.json()["deleted_at"] is None
    assert ids(user_client.get("/api/v1/tasks/")) == [deleted_task.id]


def test_restoring_a_task_that_is_not_deleted_is_a_conflict(user_client, task):
    response = user_client.post(f"/api/v1/tasks/{task.id}/restore")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("client_name, expected", [("viewer_client", 403), ("read_only_key_client", 403),
                                                   ("second_user_client", 404), ("other_tenant_client", 404)])
def test_only_the_owner_with_the_delete_scope_can_restore(request, client_name, expected, deleted_task):
    client = request.getfixturevalue(client_name)

    response = client.post(f"/api/v1/tasks/{deleted_task.id}/restore")

    assert response.status_code == expected
    assert Task.objects.get(pk=deleted_task.id).deleted_at is not None


@pytest.mark.parametrize("fixture", ["task", "deleted_task"])
def test_a_tenant_owner_can_purge_a_task_deleted_or_not(request, user_client, fixture):
    target = request.getfixturevalue(fixture)

    response = user_client.post(f"/api/v1/tasks/{target.id}/purge")

    assert response.status_code == 204
    assert not Task.objects.filter(pk=target.id).exists()


def test_a_member_cannot_purge_even_their_own_task(second_user_client, second_user_task):
    second_user_client.delete(f"/api/v1/tasks/{second_user_task.id}/")

    response = second_user_client.post(f"/api/v1/tasks/{second_user_task.id}/purge")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Task.objects.filter(pk=second_user_task.id).exists()


def test_a_platform_admin_can_purge_their_task_in_any_tenant(admin_user, tenant):
    own = Task.objects.create(tenant=tenant, user=admin_user, title="Admin's")

    response = client_for(admin_user, tenant).post(f"/api/v1/tasks/{own.id}/purge")

    assert response.status_code == 204


def test_a_viewer_cannot_purge(viewer_client, task):
    response = viewer_client.post(f"/api/v1/tasks/{task.id}/purge")

    assert response.status_code == 403
    assert Task.objects.filter(pk=task.id).exists()


def test_of_two_deletes_of_one_task_the_second_is_not_found(user_client, task):
    first = user_client.delete(f"/api/v1/tasks/{task.id}/")
    second = user_client.delete(f"/api/v1/tasks/{task.id}/")

    assert (first.status_code, second.status_code) == (204, 404)


# --- the operator console -------------------------------------------------------------------------------------------


def test_the_admin_lists_deleted_tasks_and_filters_on_the_mark(console, deleted_task, task_factory):
    live = task_factory("Live one")

    everything = console.get("/admin/tasks/task/")
    deleted_only = console.get("/admin/tasks/task/?deleted=yes")
    live_only = console.get("/admin/tasks/task/?deleted=no")

    assert everything.status_code == 200
    assert {deleted_task.pk, live.pk} <= set(everything.context["cl"].result_list.values_list("pk", flat=True))
    assert list(deleted_only.context["cl"].result_list.values_list("pk", flat=True)) == [deleted_task.pk]
    assert deleted_task.pk not in live_only.context["cl"].result_list.values_list("pk", flat=True)


def test_the_admin_restores_selected_tasks(console, deleted_task):
    response = console.post("/admin/tasks/task/", {"action": "restore_selected", "_selected_action": [deleted_task.pk]})

    assert response.status_code == 302
    assert Task.objects.get(pk=deleted_task.pk).deleted_at is None


def test_the_admin_marks_selected_tasks_deleted(console, task):
    response = console.post("/admin/tasks/task/", {"action": "mark_selected_deleted", "_selected_action": [task.pk]})

    assert response.status_code == 302
    assert Task.objects.get(pk=task.pk).deleted_at is not None


def test_the_admin_offers_purge_as_its_delete_action(console, task):
    response = console.get("/admin/tasks/task/")

    assert "Purge selected (delete for good)" in response.content.decode()


@pytest.fixture
def task_factory(user, tenant):
    return lambda title: Task.objects.create(tenant=tenant, user=user, title=title)
