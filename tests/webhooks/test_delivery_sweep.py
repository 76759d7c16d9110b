"""The delivery sweep: a pending delivery whose task was lost (the queue was down at the hand-over, or a worker died
holding it) is queued again once overdue, and delivered once, by the real worker cluster; a delivery a worker is
still at, or waits to retry, is left alone, and two tasks for one delivery send it once."""
from datetime import timedelta

import pytest
from django.db.models.functions import Now
from django_q.models import Schedule
from standardwebhooks.webhooks import Webhook

from apps.events.services import event_record
from apps.jobs.broker import queue_task
from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery, WebhookSubscription
from apps.webhooks.schedules import SWEEP_NAME
from tests.workers import wait_for

from .conftest import finished, subscribe


@pytest.mark.django_db
def test_the_sweep_leaves_deliveries_that_are_due_or_waiting_to_retry(monkeypatch, user_client, tenant,
                                                                      django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("apps.webhooks.services.queue_task", lambda func, ids, **options: queued.extend(ids))
    subscription = WebhookSubscription.objects.get(pk=subscribe(user_client, "http://127.0.0.1:9/hooks")["id"])
    fresh, retrying, lost = (WebhookDelivery.objects.create(tenant=tenant, subscription=subscription, payload={},
                                                            event_type=services.PING) for _ in range(3))
    WebhookDelivery.objects.filter(pk=retrying.pk).update(next_attempt_at=Now() + timedelta(minutes=5))
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=Now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        swept = services.deliveries_requeue_overdue()
    swept_again = services.deliveries_requeue_overdue()

    assert (swept, queued, swept_again) == ([lost.pk], [lost.pk], [])
    assert {fresh.pk, retrying.pk} & set(swept) == set()


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_minute():
    schedule = Schedule.objects.get(name=SWEEP_NAME)

    assert (schedule.func, schedule.schedule_type, schedule.minutes) == ("apps.webhooks.delivery.sweep_pending",
                                                                         Schedule.MINUTES, 1)


def sweep_in_the_workers() -> None:
    """The sweep, as the scheduler runs it every minute."""
    queue_task(Schedule.objects.get(name=SWEEP_NAME).func, task_name="test-sweep")


def delivery_handed_over_while_the_queue_was_down(monkeypatch, tenant) -> WebhookDelivery:
    """A committed event dispatched to the tenant's subscriptions while queuing failed: its delivery is pending
    with no task to run it."""
    def queue_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    event = event_record(type="tasks.created", resource="tasks", tenant_id=tenant.pk, owner_id=None,
                         data={"title": "Lost"})
    type(event).objects.filter(pk=event.pk).update(relayed_at=Now())  # this test hands it over itself
    with monkeypatch.context() as patched:
        patched.setattr("apps.webhooks.services.queue_task", queue_down)
        [delivery_id] = services.webhooks_dispatch([event])
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_a_delivery_whose_hand_over_failed_is_delivered_once_the_sweep_finds_it_overdue(
        workers, monkeypatch, user_client, tenant, receiver):
    subscription = subscribe(user_client, receiver.url)
    delivery = delivery_handed_over_while_the_queue_was_down(monkeypatch, tenant)

    sweep_in_the_workers()  # not overdue yet: it may still be on its way
    assert receiver.nothing_for(seconds=2) and WebhookDelivery.objects.get(pk=delivery.pk).status == "pending"

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=Now() - timedelta(minutes=10))
    sweep_in_the_workers()

    assert finished(delivery.pk).status == "succeeded"
    [request] = receiver.received
    assert Webhook(subscription["secret"]).verify(request.body, request.headers)["id"] == str(delivery.event_id)


def test_a_slow_delivery_is_neither_swept_nor_sent_twice_by_a_second_task(workers, monkeypatch, settings,
                                                                          user_client, tenant, receiver):
    receiver.pause = 3
    subscribe(user_client, receiver.url)
    delivery = delivery_handed_over_while_the_queue_was_down(monkeypatch, tenant)
    queue_task(services.DELIVER, [delivery.pk], task_name="test-delivery")
    wait_for(lambda: receiver.received, timeout=30, what="the first attempt to reach the receiver")

    settings.TESSERA_WEBHOOKS = {**settings.TESSERA_WEBHOOKS, "REQUEUE_AFTER_SECONDS": 0}
    swept = services.deliveries_requeue_overdue()  # the worker holds its claim: not overdue
    queue_task(services.DELIVER, [delivery.pk], task_name="test-delivery")  # as a re-queued task would arrive

    assert swept == []
    assert finished(delivery.pk).status == "succeeded"
    assert receiver.nothing_for(seconds=2) and len(receiver.received) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts.count() == 1
