"""SSRF at delivery time: the target is resolved and checked again before each attempt, and the connection goes to
the checked address. The delivery runs in this process (`deliver_batch`, the worker's entry point) because the name's
answers are swapped here, in socket.getaddrinfo, the resolver every lookup goes through."""
import socket

import pytest

from apps.events.models import Event
from apps.webhooks.delivery import deliver_batch
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from apps.webhooks.services import webhooks_dispatch

from .conftest import subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """Delivery ids handed to django-q2, recorded instead of sent: these tests run the delivery themselves, and a
    worker cluster of the session would otherwise take it too."""
    calls = []
    monkeypatch.setattr("apps.webhooks.services.queue_task", lambda func, delivery_ids, **options: calls.extend(
        delivery_ids))
    return calls

HOST = "hooks.example.test"


class SwappableDNS:
    """Answers for HOST: the given addresses, one per lookup, the last repeating; other names resolve as usual."""

    def __init__(self, monkeypatch, *answers: str):
        self.answers, self.lookups = list(answers), 0
        real = socket.getaddrinfo

        def getaddrinfo(host, *args, **kwargs):
            if host != HOST:
                return real(host, *args, **kwargs)
            self.lookups += 1
            return real(self.answers.pop(0) if len(self.answers) > 1 else self.answers[0], *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def event_for(tenant) -> Event:
    return Event.objects.create(type="tasks.created", resource="tasks", tenant=tenant, data={"id": 1})


def test_a_name_that_now_resolves_to_the_metadata_address_is_refused_at_delivery(user_client, tenant, receiver,
                                                                                  monkeypatch, handed_over):
    dns = SwappableDNS(monkeypatch, "127.0.0.1", "169.254.169.254")
    subscribe(user_client, receiver.url.replace("127.0.0.1", HOST))
    [delivery_id] = webhooks_dispatch([event_for(tenant)])

    deliver_batch([delivery_id])

    attempt = WebhookAttempt.objects.get(delivery=delivery_id)
    assert (attempt.outcome, attempt.status_code) == ("refused_target", None)
    assert "169.254.169.254" in attempt.error
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "failed"
    assert receiver.received == [] and dns.lookups == 2


def test_the_connection_goes_to_the_address_that_was_checked(user_client, tenant, receiver, monkeypatch):
    # Creation and the delivery's check see 127.0.0.1; any later lookup of the name would get a private address.
    dns = SwappableDNS(monkeypatch, "127.0.0.1", "127.0.0.1", "10.255.255.1")
    subscribe(user_client, receiver.url.replace("127.0.0.1", HOST))
    [delivery_id] = webhooks_dispatch([event_for(tenant)])

    deliver_batch([delivery_id])

    assert WebhookDelivery.objects.get(pk=delivery_id).status == "succeeded"
    assert dns.lookups == 2
    assert receiver.received[0].headers["host"] == f"{HOST}:{receiver.url.split(':')[2].split('/')[0]}"


def test_an_event_relayed_twice_is_delivered_once(user_client, tenant, receiver, queued):
    subscribe(user_client, receiver.url)
    event = event_for(tenant)

    first, again = webhooks_dispatch([event]), webhooks_dispatch([event])

    assert (len(first), again) == (1, [])
    assert queued == first
    assert WebhookDelivery.objects.filter(event_id=event.pk).count() == 1


def test_a_pending_delivery_cannot_be_redelivered(user_client, tenant, receiver, queued):
    subscribe(user_client, receiver.url)
    [delivery_id] = webhooks_dispatch([event_for(tenant)])

    response = user_client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver/")

    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert queued == [delivery_id]


def test_a_disabled_subscriptions_pending_delivery_is_dropped_without_an_attempt(user_client, tenant, receiver):
    created = subscribe(user_client, receiver.url)
    [delivery_id] = webhooks_dispatch([event_for(tenant)])
    user_client.patch(f"/api/v1/webhooks/{created['id']}/", {"active": False})

    deliver_batch([delivery_id])

    assert WebhookDelivery.objects.get(pk=delivery_id).status == "failed"
    assert not WebhookAttempt.objects.exists() and receiver.received == []


def test_a_successful_delivery_ends_the_subscriptions_failure_run(user_client, tenant, receiver):
    created = subscribe(user_client, receiver.url)
    WebhookSubscription.objects.filter(pk=created["id"]).update(consecutive_failures=2)
    [delivery_id] = webhooks_dispatch([event_for(tenant)])

    deliver_batch([delivery_id])

    assert WebhookSubscription.objects.get(pk=created["id"]).consecutive_failures == 0
