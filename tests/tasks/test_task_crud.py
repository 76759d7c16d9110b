"""Task CRUD through the generated endpoints."""
import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


def test_user_creates_a_task_stamped_with_their_tenant_and_themselves(user_client, user, tenant):
    response = user_client.post("/api/v1/tasks/", {"title": "Ship it", "priority": "critical"})

    assert response.status_code == 201
    created = Task.objects.get(pk=response.json()["id"])
    assert (created.tenant, created.user, created.priority) == (tenant, user, "critical")
