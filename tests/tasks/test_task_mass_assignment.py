"""Fields the server owns (tenant, user, id, timestamps) cannot be set through the body."""
from datetime import datetime

import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db

PAST = "2001-01-01T00:00:00Z"


def test_a_tenant_in_the_body_is_ignored_on_create(user_client, tenant, other_tenant):
    response = user_client.post("/api/v1/tasks/", {"title": "Mine", "tenant": other_tenant.id})

    assert response.status_code == 201
    assert Task.objects.get(pk=response.json()["id"]).tenant == tenant


def test_a_user_in_the_body_is_ignored_on_create(user_client, user, second_user):
    response = user_client.post("/api/v1/tasks/", {"title": "Mine", "user": second_user.id})

    assert response.status_code == 201
    assert Task.objects.get(pk=response.json()["id"]).user == user


def test_an_id_in_the_body_is_ignored_on_create(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "Mine", "id": 424242})

    assert response.status_code == 201
    assert response.json()["id"] != 424242
    assert not Task.objects.filter(pk=424242).exists()


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_timestamps_in_the_body_are_ignored_on_create(user_client, field):
    response = user_client.post("/api/v1/tasks/", {"title": "Mine", field: PAST})

    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()[field]).year != 2001


def test_a_body_full_of_server_fields_still_creates_a_task_for_the_caller(user_client, user, tenant, other_tenant,
                                                                          second_user):
    payload = {"title": "Mine", "tenant": other_tenant.id, "user": second_user.id, "id": 424242,
               "created_at": PAST, "updated_at": PAST}

    response = user_client.post("/api/v1/tasks/", payload)

    created = Task.objects.get(pk=response.json()["id"])
    assert (created.tenant, created.user) == (tenant, user)
    assert created.id != 424242
    assert created.created_at.year != 2001


@pytest.mark.parametrize("method", ["put", "patch"])
def test_server_fields_in_the_body_are_ignored_on_update(user_client, task, user, tenant, other_tenant,
                                                         second_user, method):
    created_at = task.created_at
    payload = {"title": "Renamed", "tenant": other_tenant.id, "user": second_user.id, "id": 424242,
               "created_at": PAST}

    response = getattr(user_client, method)(f"/api/v1/tasks/{task.id}/", payload)

    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.pk, task.tenant, task.user, task.created_at, task.title) == (
        response.json()["id"], tenant, user, created_at, "Renamed")


def test_a_task_cannot_be_handed_to_another_user_by_patch(user_client, second_user_client, task, second_user):
    user_client.patch(f"/api/v1/tasks/{task.id}/", {"user": second_user.id})

    response = second_user_client.get(f"/api/v1/tasks/{task.id}/")

    assert response.status_code == 404
