"""Task CRUD through the generated endpoints."""
from datetime import datetime

import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db

FIELDS = {"id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at",
          "deleted_at"}


def test_user_creates_a_task_stamped_with_their_tenant_and_themselves(user_client, user, tenant):
    response = user_client.post("/api/v1/tasks/", {"title": "Ship it", "priority": "critical"})

    assert response.status_code == 201
    created = Task.objects.get(pk=response.json()["id"])
    assert (created.tenant, created.user, created.priority) == (tenant, user, "critical")


def test_a_created_task_is_returned_with_exactly_the_documented_fields(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "Ship it"})

    assert set(response.json()) == FIELDS


def test_a_new_task_is_pending_with_medium_priority_by_default(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "Ship it"})

    body = response.json()
    assert (body["status"], body["priority"], body["description"], body["due_date"]) == ("pending", "medium", "",
                                                                                          None)


def test_a_task_accepts_every_writable_field(user_client):
    payload = {"title": "Plan", "description": "Q3 plan", "status": "in_progress", "priority": "low",
               "due_date": "2030-01-31"}

    response = user_client.post("/api/v1/tasks/", payload)

    assert response.status_code == 201
    assert {key: response.json()[key] for key in payload} == payload


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_timestamps_are_iso_8601_in_utc(user_client, task, field):
    response = user_client.get(f"/api/v1/tasks/{task.id}/")

    stamp = datetime.fromisoformat(response.json()[field])
    assert stamp.utcoffset().total_seconds() == 0
    assert response.json()[field].endswith("Z")


def test_list_returns_the_users_tasks(user_client, task):
    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["title"] == "Write the spec"


def test_retrieve_returns_the_task(user_client, task):
    response = user_client.get(f"/api/v1/tasks/{task.id}/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["priority"]) == (task.id, "high")


def test_put_replaces_the_writable_fields(user_client, task):
    payload = {"title": "Rewrite the spec", "description": "v2", "status": "completed", "priority": "low",
               "due_date": "2030-06-01"}

    response = user_client.put(f"/api/v1/tasks/{task.id}/", payload)

    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.description, task.status, task.priority, str(task.due_date)) == (
        "Rewrite the spec", "v2", "completed", "low", "2030-06-01")


def test_put_without_a_title_is_refused(user_client, task):
    response = user_client.put(f"/api/v1/tasks/{task.id}/", {"status": "completed"})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["title"] == ["This field is required."]


def test_patch_changes_only_the_given_fields(user_client, task):
    response = user_client.patch(f"/api/v1/tasks/{task.id}/", {"status": "completed"})

    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.title, task.priority) == ("completed", "Write the spec", "high")


def test_patch_moves_updated_at_forward(user_client, task):
    before = task.updated_at

    response = user_client.patch(f"/api/v1/tasks/{task.id}/", {"title": "Renamed"})

    assert datetime.fromisoformat(response.json()["updated_at"]) > before


def test_patch_can_clear_the_due_date(user_client, user, tenant):
    dated = Task.objects.create(tenant=tenant, user=user, title="Dated", due_date="2030-01-01")

    response = user_client.patch(f"/api/v1/tasks/{dated.id}/", {"due_date": None})

    assert response.json()["due_date"] is None
    dated.refresh_from_db()
    assert dated.due_date is None


def test_delete_marks_the_task_deleted_and_returns_204_without_a_body(user_client, task):
    response = user_client.delete(f"/api/v1/tasks/{task.id}/")

    assert response.status_code == 204
    assert response.content == b""
    assert Task.objects.get(pk=task.id).deleted_at is not None  # soft delete: tests/tasks/test_task_soft_delete.py


def test_a_deleted_task_is_then_not_found(user_client, task):
    user_client.delete(f"/api/v1/tasks/{task.id}/")

    response = user_client.get(f"/api/v1/tasks/{task.id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/tasks/"])
def test_the_list_answers_with_and_without_a_trailing_slash(user_client, task, path):
    response = user_client.get(path)

    assert response.json()["count"] == 1


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_task_answers_with_and_without_a_trailing_slash(user_client, task, method):
    payload = {"title": "Same"} if method in ("put", "patch") else None

    response = getattr(user_client, method)(f"/api/v1/tasks/{task.id}", payload)

    assert response.status_code in (200, 204)


# --- who may do what --------------------------------------------------------------------------------

OPERATIONS = {
    "list": ("get", "/api/v1/tasks/", None),
    "create": ("post", "/api/v1/tasks/", {"title": "New"}),
    "retrieve": ("get", "/api/v1/tasks/{id}/", None),
    "update": ("put", "/api/v1/tasks/{id}/", {"title": "Replaced"}),
    "partial_update": ("patch", "/api/v1/tasks/{id}/", {"title": "Changed"}),
    "destroy": ("delete", "/api/v1/tasks/{id}/", None),
}


@pytest.mark.parametrize("client_name, operation, expected", [
    ("viewer_client", "list", 200),
    ("viewer_client", "create", 403),
    ("read_only_key_client", "list", 200),
    ("read_only_key_client", "retrieve", 200),
    ("read_only_key_client", "create", 403),
    ("read_only_key_client", "update", 403),
    ("read_only_key_client", "partial_update", 403),
    ("read_only_key_client", "destroy", 403),
    ("anon_client", "list", 401),
    ("anon_client", "create", 401),
    ("anon_client", "retrieve", 401),
    ("anon_client", "destroy", 401),
])
def test_what_each_persona_may_do_with_tasks(request, task, client_name, operation, expected):
    client = request.getfixturevalue(client_name)
    method, path, payload = OPERATIONS[operation]

    response = getattr(client, method)(path.format(id=task.id), payload)

    assert response.status_code == expected
    if expected >= 400:
        assert response.json()["error"]["code"] == {401: "not_authenticated", 403: "permission_denied"}[expected]


@pytest.mark.parametrize("operation", ["update", "partial_update", "destroy"])
def test_a_refused_write_leaves_the_task_as_it_was(read_only_key_client, task, operation):
    method, path, payload = OPERATIONS[operation]

    getattr(read_only_key_client, method)(path.format(id=task.id), payload)

    task.refresh_from_db()
    assert task.title == "Write the spec"


def test_a_viewer_who_cannot_create_writes_nothing(viewer_client):
    viewer_client.post("/api/v1/tasks/", {"title": "Nope"})

    assert not Task.objects.exists()


def test_a_viewer_creates_nothing_even_as_a_member_elsewhere(mixed_client, tenant):
    response = mixed_client.post("/api/v1/tasks/", {"title": "Nope"}, HTTP_X_TENANT_ID=tenant.slug)

    assert response.status_code == 403
    assert not Task.objects.exists()


def test_the_same_user_may_create_where_they_are_a_member(mixed_client, mixed_user, other_tenant):
    response = mixed_client.post("/api/v1/tasks/", {"title": "Mine"}, HTTP_X_TENANT_ID=other_tenant.slug)

    assert response.status_code == 201
    assert Task.objects.get().tenant == other_tenant
