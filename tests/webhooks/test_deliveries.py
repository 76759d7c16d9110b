"""Deliveries through the real worker cluster to a real local receiver: signed by the Standard Webhooks scheme,
retried with backoff, every attempt listed, the test and redeliver actions, and switching off after failures."""
from standardwebhooks.webhooks import Webhook

from apps.audit.models import AuditLog
from apps.events.models import Event
from apps.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.workers import wait_for

from .conftest import DISABLE_AFTER, finished, subscribe


def task_created(client, title: str = "Ship it") -> Event:
    """A task created through the API, and the `tasks.created` event it announced."""
    response = client.post("/api/v1/tasks/", {"title": title})
    assert response.status_code == 201
    return Event.objects.get(type="tasks.created", data__id=response.json()["id"])


def delivery_of(event) -> WebhookDelivery:
    return wait_for(lambda: WebhookDelivery.objects.filter(event_id=event.pk).first(), timeout=30,
                    what="the event's delivery")


def test_a_change_event_arrives_signed_by_the_standard_webhooks_scheme(workers, user_client, tenant, receiver):
    subscription = subscribe(user_client, receiver.url, headers={"X-Api-Token": "crm-token"})

    event = task_created(user_client)
    finished(delivery_of(event).pk)

    [request] = receiver.received
    verified = Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert verified == event.envelope()
    assert request.headers["webhook-id"] == str(event.pk)
    assert request.headers["x-api-token"] == "crm-token"


def test_membership_changes_are_delivered_to_subscribers_of_membership_events(workers, user_client, tenant,
                                                                               second_user, receiver):
    subscription = subscribe(user_client, receiver.url, events=["membership.*"])

    user_client.patch(f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}/", {"role": "admin"}, format="json")
    event = Event.objects.get(type="membership.updated")
    finished(delivery_of(event).pk)

    [request] = receiver.received
    verified = Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert verified == event.envelope()
    assert (verified["tenant"], verified["data"]["user_id"], verified["data"]["role"]) == (tenant.pk, second_user.pk,
                                                                                           "admin")


def test_an_event_no_pattern_matches_is_not_delivered(workers, user_client, tenant, receiver):
    subscribe(user_client, receiver.url, events=["migration.*"])

    event = task_created(user_client)
    wait_for(lambda: type(event).objects.filter(pk=event.pk, relayed_at__isnull=False).exists(), timeout=30,
             what="the event to be relayed")

    assert not WebhookDelivery.objects.exists() and receiver.received == []


def test_server_errors_are_retried_with_backoff_until_the_receiver_answers(workers, user_client, tenant, receiver):
    receiver.answer_with((500, b"database down"), (503, b"busy"))
    subscribe(user_client, receiver.url, retry_policy={"max_retries": 3, "retry_delay": 0.2})

    delivery = finished(delivery_of(task_created(user_client)).pk)
    listed = user_client.get(f"/api/v1/webhooks/deliveries/{delivery.pk}/").json()

    assert listed["status"] == "succeeded"
    assert [(a["number"], a["outcome"], a["status_code"], a["will_retry_in"]) for a in listed["attempts"]] == [
        (1, "http_error", 500, 0.2), (2, "http_error", 503, 0.4), (3, "succeeded", 200, None)]
    assert listed["attempts"][0]["response_excerpt"] == "database down"
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1


def test_a_client_error_is_not_retried(workers, user_client, tenant, receiver):
    receiver.answer_with((400, b"unknown event"))
    subscribe(user_client, receiver.url, retry_policy={"max_retries": 3, "retry_delay": 0.2})

    delivery = finished(delivery_of(task_created(user_client)).pk)

    assert (delivery.status, delivery.attempt_count) == ("failed", 1)


def test_a_delivery_fails_once_its_retries_are_spent(workers, user_client, tenant, receiver):
    receiver.answer_with(*[(429, b"slow down")] * 3)
    subscribe(user_client, receiver.url, retry_policy={"max_retries": 1, "retry_delay": 0.1})

    delivery = finished(delivery_of(task_created(user_client)).pk)

    assert (delivery.status, delivery.attempt_count, len(receiver.received)) == ("failed", 2, 2)


def test_a_long_answer_is_kept_truncated(workers, user_client, tenant, receiver):
    receiver.answer_with((200, b"x" * 5000))
    subscribe(user_client, receiver.url)

    delivery = finished(delivery_of(task_created(user_client)).pk)
    attempt = delivery.attempts.get()

    assert (len(attempt.response_excerpt), attempt.response_truncated) == (1000, True)


def test_the_test_action_sends_a_signed_ping(workers, user_client, receiver):
    subscription = subscribe(user_client, receiver.url)

    response = user_client.post(f"/api/v1/webhooks/{subscription['id']}/test/")
    finished(response.json()["id"])

    assert response.status_code == 202 and response.json()["event_type"] == "webhook.ping"
    [request] = receiver.received
    assert Webhook(subscription["secret"]).verify(request.body, request.headers)["type"] == "webhook.ping"


def test_redelivery_sends_the_same_event_again_and_lists_both_attempts(workers, user_client, tenant, receiver):
    subscribe(user_client, receiver.url)
    delivery = finished(delivery_of(task_created(user_client)).pk)

    response = user_client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    finished(delivery.pk)
    listed = user_client.get(f"/api/v1/webhooks/deliveries/?subscription={delivery.subscription_id}").json()

    assert response.status_code == 202
    assert [request.body for request in receiver.received] == [receiver.received[0].body] * 2
    assert [request.headers["webhook-id"] for request in receiver.received] == [str(delivery.event_id)] * 2
    assert [a["number"] for a in listed["results"][0]["attempts"]] == [1, 2]


def test_a_run_of_failed_deliveries_switches_the_subscription_off_and_audits_it(workers, user_client, tenant,
                                                                                receiver):
    receiver.answer_with(*[(500, b"down")] * DISABLE_AFTER)
    created = subscribe(user_client, receiver.url, retry_policy={"max_retries": 0, "retry_delay": 1})

    for number in range(DISABLE_AFTER):
        finished(delivery_of(task_created(user_client, f"task {number}")).pk)
    later = task_created(user_client, "after")
    wait_for(lambda: type(later).objects.filter(pk=later.pk, relayed_at__isnull=False).exists(), timeout=30,
             what="the last event to be relayed")

    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert (subscription.active, subscription.consecutive_failures) == (False, DISABLE_AFTER)
    assert user_client.get(f"/api/v1/webhooks/{created['id']}/").json()["disabled_reason"]
    audit = AuditLog.objects.get(event="webhook_disabled")
    assert (audit.tenant, audit.details["subscription_id"]) == (tenant, created["id"])
    assert not WebhookDelivery.objects.filter(event_id=later.pk).exists()
    assert len(receiver.received) == DISABLE_AFTER
