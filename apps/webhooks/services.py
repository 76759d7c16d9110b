"""Changes to webhook subscriptions and deliveries. Every write happens here; the worker side is delivery.py."""
from __future__ import annotations

import base64
import fnmatch
import logging
import secrets
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from apps.api.errors import Conflict, ValidationFailed
from apps.audit.services import audit_record
from apps.jobs.broker import queue_broker

from .conf import webhooks_settings
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from .targets import TargetRefused, resolve_target

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.events.models import Event
    from apps.tenants.models import Tenant

logger = logging.getLogger("tessera.webhooks")

DELIVER = "apps.webhooks.delivery.deliver_batch"
#: Deliveries per queued task: enough to spare the queue a task per delivery, few enough to spread over workers.
DELIVERY_BATCH = 20
#: The event type of the `test` action's delivery, sent whatever the subscription's patterns say.
PING = "webhook.ping"
#: The audit event of a subscription switched off after a run of failed deliveries.
DISABLED_EVENT = "webhook_disabled"

def _checked_url(url: str) -> str:
    try:
        resolve_target(url)
    except TargetRefused as refusal:
        raise ValidationFailed(details={"url": [str(refusal)]}) from None
    return url

def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64: the Standard Webhooks form, whose base64 part is the HMAC key."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

@transaction.atomic
def subscription_create(*, tenant: Tenant, created_by: User | None, url: str, **data: Any) -> WebhookSubscription:
    """A new subscription of `tenant`, its URL checked (a refused target is a 400 naming `url`). The returned row
    carries `secret_once`, the signing secret, for the create response only."""
    subscription = WebhookSubscription.objects.create(tenant=tenant, created_by=created_by, url=_checked_url(url),
                                                      secret=new_secret(), **data)
    subscription.secret_once = subscription.secret
    return subscription

@transaction.atomic
def subscription_update(subscription: WebhookSubscription, **data: Any) -> WebhookSubscription:
    """Apply changes; a new URL is checked again. Switching a subscription back on clears its failure run."""
    if "url" in data and data["url"] != subscription.url:
        _checked_url(data["url"])
    if data.get("active") and not subscription.active:
        data.update(consecutive_failures=0, disabled_reason="")
    for name, value in data.items():
        setattr(subscription, name, value)
    subscription.save(update_fields=[*data, "updated_at"])
    return subscription

def matches(patterns: list[str], event_type: str) -> bool:
    """Whether a subscription with these patterns wants `event_type` (`*` matches any run of characters)."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)

class _HandOver:
    """The deliveries made in one transaction, handed to the queue together once it commits, DELIVERY_BATCH to a
    task: a burst of events (the relay hands them over a batch per transaction) costs a task per batch."""

    def __init__(self) -> None:
        self.delivery_ids: list[int] = []

    def __call__(self) -> None:
        for start in range(0, len(self.delivery_ids), DELIVERY_BATCH):
            batch = self.delivery_ids[start:start + DELIVERY_BATCH]
            try:
                async_task(DELIVER, batch, task_name=f"webhook-deliveries-{batch[0]}", broker=queue_broker())
            except Exception:  # the broker is down: the deliveries stay pending, and redeliver sends them later
                logger.error("Could not queue webhook deliveries %s", batch, exc_info=True)


def _enqueue(delivery_id: int) -> None:
    """Queue the delivery once the transaction commits, with the others the same transaction made.

    The hand-over is found among the connection's commit callbacks: one dropped by a rollback (of the
    transaction or of the savepoint it was registered in) is gone from there, and a new one is registered.
    """
    connection = transaction.get_connection()
    hand_over = next((func for _, func, _ in connection.run_on_commit if isinstance(func, _HandOver)), None)
    if hand_over is None:
        hand_over = _HandOver()
        transaction.on_commit(hand_over)
    hand_over.delivery_ids.append(delivery_id)


@transaction.atomic
def webhooks_dispatch(event: Event) -> list[WebhookDelivery]:
    """The events receiver: one delivery of `event.envelope()` per active subscription of the event's tenant whose
    patterns match, each queued once committed. Idempotent, as the relay may hand an event over again: the
    deliveries are made once, and nothing is queued twice."""
    if event.tenant_id is None:
        return []
    made, payload = [], None
    for subscription in WebhookSubscription.objects.filter(tenant_id=event.tenant_id, active=True):
        if not matches(subscription.events, event.type):
            continue
        payload = payload or event.envelope()
        delivery, created = WebhookDelivery.objects.get_or_create(
            subscription=subscription, event_id=event.pk,
            defaults={"tenant_id": event.tenant_id, "event_type": event.type, "payload": payload})
        if created:
            _enqueue(delivery.pk)
            made.append(delivery)
    return made


@transaction.atomic
def subscription_test(subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a `webhook.ping` delivery to the subscription, whatever its patterns and even while switched off."""
    event_id, now = uuid4(), timezone.now()
    payload = {"id": str(event_id), "type": PING, "tenant": subscription.tenant_id,
               "occurred_at": now.isoformat().replace("+00:00", "Z"), "data": {"subscription": subscription.pk}}
    delivery = WebhookDelivery.objects.create(tenant_id=subscription.tenant_id, subscription=subscription,
                                              event_id=event_id, event_type=PING, payload=payload)
    _enqueue(delivery.pk)
    return delivery

@transaction.atomic
def delivery_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery's event again (same id and body, so receivers can dedupe), with a fresh series of
    attempts appended to the earlier ones. One still pending is a 409."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise Conflict("This delivery is still being attempted; redeliver it once it has finished.")
    delivery.status, delivery.finished_at = WebhookDelivery.Status.PENDING, None
    delivery.series_start = delivery.attempt_count  # a fresh series of retries
    delivery.save(update_fields=["status", "finished_at", "series_start"])
    _enqueue(delivery.pk)
    return delivery

@transaction.atomic
def attempt_record(delivery: WebhookDelivery, *, outcome: str, retryable: bool, duration_ms: int,
                   status_code: int | None = None, excerpt: str = "", truncated: bool = False,
                   error: str = "") -> float | None:
    """Record one attempt and what follows from it; returns the seconds until the next attempt, or None when the
    delivery has ended. A success ends the subscription's failure run; a delivery that fails for good extends it,
    and a run of DISABLE_AFTER_FAILURES switches the subscription off, with an audit entry."""
    # Only the delivery's row is locked: its subscription's other deliveries are recorded meanwhile.
    delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription")
                .get(pk=delivery.pk))
    subscription = delivery.subscription
    delivery.attempt_count += 1
    attempts_in_series = delivery.attempt_count - delivery.series_start
    delay = None
    if outcome == WebhookAttempt.Outcome.SUCCEEDED:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
    elif retryable and attempts_in_series <= subscription.max_retries:
        delay = subscription.retry_delay * 2 ** (attempts_in_series - 1)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
    WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempt_count, outcome=outcome,
                                  status_code=status_code, duration_ms=duration_ms, response_excerpt=excerpt,
                                  response_truncated=truncated, error=error[:500], will_retry_in=delay)
    if delay is None:
        delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "attempt_count", "finished_at"])
    if delivery.event_type != PING:
        if delivery.status == WebhookDelivery.Status.SUCCEEDED and subscription.consecutive_failures:
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        elif delivery.status == WebhookDelivery.Status.FAILED:
            _count_failure(subscription)
    return delay

def _count_failure(subscription: WebhookSubscription) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    limit = webhooks_settings.DISABLE_AFTER_FAILURES
    if subscription.active and subscription.consecutive_failures >= limit:
        subscription.active = False
        subscription.disabled_reason = f"Switched off after {subscription.consecutive_failures} failed deliveries in a row."
        subscription.save(update_fields=["active", "disabled_reason", "updated_at"])
        audit_record(DISABLED_EVENT, tenant=subscription.tenant, subscription_id=subscription.pk,
                     name=subscription.name, consecutive_failures=subscription.consecutive_failures)

@transaction.atomic
def delivery_abandon(delivery: WebhookDelivery, *, reason: str) -> None:
    """End a pending delivery without an attempt (its subscription was switched off meanwhile)."""
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, finished_at=timezone.now())
    logger.info("Webhook delivery %s abandoned: %s", delivery.pk, reason)

