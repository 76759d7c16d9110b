"""What turning relayed events into deliveries costs the database: the same few statements for a relay batch of
any size (`make bench-webhooks` measures the speed)."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import Event
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import webhooks_dispatch

from .conftest import subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """Deliveries are recorded as handed to django-q2, not sent: only their making is counted here."""
    calls = []
    monkeypatch.setattr("apps.webhooks.services.queue_task", lambda func, delivery_ids, **options: calls.extend(
        delivery_ids))
    return calls


def events(tenant, count: int) -> list[Event]:
    return [Event.objects.create(type="tasks.created", resource="tasks", tenant=tenant, data={"id": number})
            for number in range(count)]


def statements_of(batch: list[Event]) -> list[str]:
    """`SELECT webhooks_webhooksubscription`, `INSERT webhooks_webhookdelivery`...: each statement's verb and table."""
    with CaptureQueriesContext(connection) as queries:
        webhooks_dispatch(batch)
    return [" ".join([query["sql"].split()[0], *re.findall(r'(?:FROM|INTO) "?(\w+)', query["sql"])[:1]])
            for query in queries]


def test_a_batch_of_events_costs_the_statements_of_one_event(user_client, tenant, receiver, queued):
    subscribe(user_client, receiver.url)
    subscribe(user_client, receiver.url, events=["tasks.created", "tasks.updated"])

    one, thirty = statements_of(events(tenant, 1)), statements_of(events(tenant, 30))

    assert one == thirty
    assert thirty == ["BEGIN", "SELECT webhooks_webhooksubscription", "INSERT webhooks_webhookdelivery", "COMMIT"]
    assert WebhookDelivery.objects.count() == len(queued) == 2 * 31  # every event, to both subscriptions
