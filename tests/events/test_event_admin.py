"""The operator console lists change events, read-only."""
import pytest

from apps.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(tenant, user):
    return Event.objects.create(type="tasks.created", resource="tasks", tenant=tenant, owner=user,
                                data={"id": 1, "title": "Shown to operators"})


def test_operators_see_events_with_their_data(console, event):
    listing = console.get("/admin/events/event/")
    detail = console.get(f"/admin/events/event/{event.pk}/change/")

    assert listing.status_code == 200 and "tasks.created" in listing.content.decode()
    assert detail.status_code == 200 and "Shown to operators" in detail.content.decode()


def test_pending_events_can_be_listed_on_their_own(console, event):
    Event.objects.create(type="tasks.deleted", resource="tasks", data={}, relayed_at=event.occurred_at)

    pending = console.get("/admin/events/event/?relayed=no")

    assert [row.type for row in pending.context["cl"].result_list] == ["tasks.created"]


def test_events_cannot_be_added_changed_or_deleted_in_the_console(console, event):
    assert console.get("/admin/events/event/add/").status_code == 403
    assert console.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()
