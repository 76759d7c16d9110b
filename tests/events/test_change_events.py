"""A resource that declares `events` records one outbox row per change, in the change's own transaction."""
import pytest
from django.db import transaction

from apps import api
from apps.api.events import announce
from apps.events.models import Event
from apps.tasks.models import Task

from .conftest import events_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_creating_a_task_records_a_tasks_created_event_with_the_row_as_the_api_renders_it(user_client, user, tenant,
                                                                                           handed_to_relay):
    response = user_client.post("/api/v1/tasks/", {"title": "Ship it", "priority": "high"}, format="json")

    [event] = events_of("tasks.created")
    assert response.status_code == 201
    assert event.data == response.json()
    assert (event.resource, event.tenant_id, event.owner_id, event.relayed_at) == ("tasks", tenant.pk, user.pk, None)
    assert handed_to_relay == [event.pk]


def test_updating_a_task_records_a_tasks_updated_event_with_the_new_values(user_client, task):
    response = user_client.patch(f"/api/v1/tasks/{task.pk}/", {"status": "completed"}, format="json")

    [event] = events_of("tasks.updated")
    assert response.status_code == 200
    assert event.data["status"] == "completed"
    assert event.data == response.json()


def test_deleting_a_task_records_a_tasks_deleted_event_with_the_row_as_it_was(user_client, task, tenant):
    response = user_client.delete(f"/api/v1/tasks/{task.pk}/")

    [event] = events_of("tasks.deleted")
    assert response.status_code == 204
    assert (event.data["id"], event.data["title"], event.tenant_id) == (task.pk, task.title, tenant.pk)


def test_a_refused_write_records_nothing(user_client, viewer_client, task):
    user_client.post("/api/v1/tasks/", {"title": ""}, format="json")  # 400
    viewer_client.delete(f"/api/v1/tasks/{task.pk}/")  # 403

    assert not Event.objects.exists()


def test_a_rolled_back_change_emits_nothing(user, tenant, handed_to_relay):
    resource = api.site.get_resource(Task)

    with pytest.raises(RuntimeError), transaction.atomic():
        task = Task.objects.create(tenant=tenant, user=user, title="Never happened")
        announce(resource, "created", task)
        raise RuntimeError("the change fails after its event was written")

    assert not Event.objects.exists()
    assert not Task.objects.exists()
    assert handed_to_relay == []


def test_a_resource_without_events_records_nothing(user_client):
    response = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 0}}, format="json")

    assert response.status_code == 201
    assert not Event.objects.filter(resource="jobs", type__endswith=".created").exists()


def test_the_envelope_is_id_type_tenant_occurred_at_and_data(user_client, tenant):
    user_client.post("/api/v1/tasks/", {"title": "Enveloped"}, format="json")

    envelope = Event.objects.get().envelope()

    assert set(envelope) == {"id", "type", "tenant", "occurred_at", "data"}
    assert (envelope["type"], envelope["tenant"], envelope["data"]["title"]) == ("tasks.created", tenant.pk,
                                                                                  "Enveloped")
    assert envelope["occurred_at"].endswith("Z")


def test_an_api_key_announces_its_creation_and_revocation_without_its_secret(user_client, user):
    created = user_client.post("/api/v1/auth/api-keys/", {"name": "ci", "scopes": ["tasks:read"]}, format="json")
    user_client.delete(f"/api/v1/auth/api-keys/{created.json()['id']}/")

    events = list(Event.objects.filter(resource="auth/api-keys").order_by("occurred_at"))
    secret = created.json()["key"]
    assert [event.type for event in events] == ["api_key.created", "api_key.deleted"]
    assert events[0].data["key"] is None and events[0].data["prefix"] == created.json()["prefix"]
    assert events[1].data["revoked_at"] is not None
    assert all(secret not in str(event.data) for event in events)
    assert (events[0].tenant_id, events[0].owner_id) == (None, user.pk)
