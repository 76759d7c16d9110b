"""Each user sees only their own tasks in the active tenant; anyone else's task is 404, never 403."""
import pytest

from apps.tasks.models import Task
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db

WRITES = {"put": {"title": "Hijacked", "status": "completed"}, "patch": {"title": "Hijacked"}, "delete": None}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_task_in_the_same_tenant_is_not_found(user_client, second_user_task, method):
    response = getattr(user_client, method)(f"/api/v1/tasks/{second_user_task.id}/", WRITES.get(method))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_refused_write_to_another_users_task_changes_nothing(user_client, second_user_task, method):
    title = second_user_task.title

    getattr(user_client, method)(f"/api/v1/tasks/{second_user_task.id}/", WRITES[method])

    second_user_task.refresh_from_db()
    assert (second_user_task.title, second_user_task.status) == (title, "pending")


def test_another_users_task_looks_exactly_like_a_missing_one(user_client, second_user_task):
    hidden = user_client.get(f"/api/v1/tasks/{second_user_task.id}/")

    missing = user_client.get("/api/v1/tasks/987654/")

    assert (hidden.status_code, hidden.json()["error"]["message"]) == (
        missing.status_code, missing.json()["error"]["message"])


def test_another_users_tasks_are_absent_from_the_list(user_client, task, second_user_task):
    response = user_client.get("/api/v1/tasks/")

    assert [row["id"] for row in response.json()["results"]] == [task.id]
    assert response.json()["count"] == 1
    assert CANARY not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_task_of_another_tenant_is_not_found(user_client, other_tenant_task, method):
    response = getattr(user_client, method)(f"/api/v1/tasks/{other_tenant_task.id}/", WRITES.get(method))

    assert response.status_code == 404
    assert CANARY not in response.content.decode()


def test_tasks_of_another_tenant_are_absent_from_the_list(user_client, task, other_tenant_task):
    response = user_client.get("/api/v1/tasks/")

    assert [row["id"] for row in response.json()["results"]] == [task.id]
    assert CANARY not in response.content.decode()


def test_the_owner_still_sees_their_own_task(second_user_client, second_user_task):
    response = second_user_client.get(f"/api/v1/tasks/{second_user_task.id}/")

    assert response.status_code == 200
    assert response.json()["title"] == second_user_task.title


def test_a_platform_admin_sees_only_their_own_tasks_too(admin_client, task, second_user_task):
    response = admin_client.get("/api/v1/tasks/")

    assert response.json()["count"] == 0
    assert CANARY not in response.content.decode()


def test_a_users_own_task_in_one_tenant_is_not_listed_in_another(mixed_client, mixed_user, tenant, other_tenant):
    Task.objects.create(tenant=other_tenant, user=mixed_user, title="Made at Globex")

    response = mixed_client.get("/api/v1/tasks/", HTTP_X_TENANT_ID=str(tenant.id))

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_users_own_task_in_one_tenant_is_not_found_from_another(mixed_client, mixed_user, tenant, other_tenant):
    elsewhere = Task.objects.create(tenant=other_tenant, user=mixed_user, title="Made at Globex")

    response = mixed_client.get(f"/api/v1/tasks/{elsewhere.id}/", HTTP_X_TENANT_ID=tenant.slug)

    assert response.status_code == 404


def test_asking_for_a_tenant_you_are_not_in_is_403(user_client, other_tenant, other_tenant_task):
    response = user_client.get("/api/v1/tasks/", HTTP_X_TENANT_ID=str(other_tenant.id))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert CANARY not in response.content.decode()
