"""Rows of another tenant are invisible: 404 on every verb, absent from lists, never leaked in a body."""
import pytest

from apps.tasks.models import Task
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"


@pytest.mark.parametrize("method, body", [
    ("get", None), ("put", {"title": "Hijacked", "status": "completed"}), ("patch", {"title": "Hijacked"}),
    ("delete", None),
])
def test_another_tenants_task_is_not_found(user_client, other_tenant_task, method, body):
    response = getattr(user_client, method)(f"{TASKS}{other_tenant_task.pk}/", body)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, body", [("put", {"title": "Hijacked"}), ("patch", {"title": "Hijacked"}),
                                          ("delete", None)])
def test_a_refused_write_leaves_another_tenants_task_untouched(user_client, other_tenant_task, method, body):
    getattr(user_client, method)(f"{TASKS}{other_tenant_task.pk}/", body)

    assert Task.objects.get(pk=other_tenant_task.pk).title == f"Globex plan {CANARY}"


def test_another_tenants_task_is_absent_from_the_list(user_client, task, other_tenant_task):
    response = user_client.get(TASKS)

    assert [row["id"] for row in response.json()["results"]] == [task.pk]


def test_another_tenants_task_is_absent_from_a_search_for_it(user_client, other_tenant_task):
    response = user_client.get(TASKS, {"search": "Globex"})

    assert response.json()["count"] == 0


def test_a_platform_admin_in_one_tenant_does_not_see_another_tenants_tasks(admin_client, other_tenant_task):
    response = admin_client.get(f"{TASKS}{other_tenant_task.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_my_own_task_in_another_tenant_is_invisible_from_this_one(mixed_client, tenant, other_tenant, mixed_user):
    elsewhere = Task.objects.create(tenant=other_tenant, user=mixed_user, title=f"Elsewhere {CANARY}")

    response = mixed_client.get(f"{TASKS}{elsewhere.pk}/", HTTP_X_TENANT_ID=str(tenant.pk))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_my_own_tasks_in_another_tenant_are_absent_from_this_tenants_list(mixed_client, tenant, other_tenant,
                                                                         mixed_user):
    Task.objects.create(tenant=other_tenant, user=mixed_user, title=f"Elsewhere {CANARY}")

    response = mixed_client.get(TASKS, HTTP_X_TENANT_ID=str(tenant.pk))

    assert response.json()["count"] == 0


def test_the_other_tenant_cannot_see_my_task(other_tenant_client, task):
    response = other_tenant_client.get(f"{TASKS}{task.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/v1/tasks/", None),
    ("get", "/api/v1/tasks/?search=CANARY", None),
    ("get", "/api/v1/tasks/{other_task}/", None),
    ("get", "/api/v1/tasks/{second_task}/", None),
    ("patch", "/api/v1/tasks/{other_task}/", {"title": "x"}),
    ("delete", "/api/v1/tasks/{other_task}/", None),
    ("get", "/api/v1/tenants/", None),
    ("get", "/api/v1/tenants/{other_tenant}/", None),
    ("get", "/api/v1/tenants/{other_tenant}/members/", None),
    ("get", "/api/v1/tenants/{tenant}/members/", None),
    ("get", "/api/v1/auth/me", None),
    ("get", "/api/v1/auth/me/tenant", None),
    ("get", "/api/v1/auth/api-keys/", None),
    ("get", "/api/v1/users/", None),
    ("get", "/api/v1/users/{other_user}/", None),
])
def test_the_canary_never_appears_in_a_response_to_this_tenant(user_client, task, second_user_task,
                                                                other_tenant_task, tenant, other_tenant, other_user,
                                                                method, path, body):
    url = path.format(other_task=other_tenant_task.pk, second_task=second_user_task.pk, tenant=tenant.pk,
                      other_tenant=other_tenant.pk, other_user=other_user.pk)

    response = getattr(user_client, method)(url, body)

    assert response.status_code < 500
    assert CANARY.encode() not in response.content
