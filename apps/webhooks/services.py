"""Changes to webhook subscriptions and deliveries. Every write happens here; the worker side is delivery.py."""
from __future__ import annotations

import base64
import fnmatch
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import orjson
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Now
from django.utils import timezone

from apps.api.errors import Conflict, ValidationFailed
from apps.audit.models import AuditLog
from apps.audit.services import audit_record
from apps.jobs.broker import queue_task
from apps.platform import encryption

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

def _checked_url(url: str) -> str:
    try:
        resolve_target(url)
    except TargetRefused as refusal:
        raise ValidationFailed(details={"url": [str(refusal)]}) from None
    return url

def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64: the Standard Webhooks form, whose base64 part is the HMAC key."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

#: Names the key derived from SECRET_KEY when TESSERA_WEBHOOKS has no SECRETS_KEY (apps/platform/encryption.py).
SECRET_PURPOSE = "tessera-webhook-secrets"


def seal_secret(secret: str) -> str:
    """The signing secret as the `secret` column stores it: encrypted."""
    return encryption.seal(secret, key=webhooks_settings.SECRETS_KEY, purpose=SECRET_PURPOSE)


def signing_secret(subscription: WebhookSubscription) -> str:
    """The subscription's signing secret (`whsec_...`), for signing a delivery; never for rendering."""
    return encryption.unseal(subscription.secret, key=webhooks_settings.SECRETS_KEY, purpose=SECRET_PURPOSE)


@transaction.atomic
def subscription_create(*, tenant: Tenant, created_by: User | None, url: str, **data: Any) -> WebhookSubscription:
    """A new subscription of `tenant`, its URL checked (a refused target is a 400 naming `url`). The returned row
    carries `secret_once`, the signing secret, for the create response only: the database keeps it encrypted."""
    secret = new_secret()
    subscription = WebhookSubscription.objects.create(tenant=tenant, created_by=created_by, url=_checked_url(url),
                                                      secret=seal_secret(secret), **data)
    subscription.secret_once = secret
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
                queue_task(DELIVER, batch, task_name=f"webhook-deliveries-{batch[0]}")
            except Exception:  # the broker is down: the deliveries stay pending, and the sweep queues them again
                logger.error("Could not queue webhook deliveries %s", batch, exc_info=True)


def _enqueue(delivery_id: int) -> None:
    """Queue the delivery once the transaction commits, with the others the same transaction made.

    The hand-over is found among the connection's commit callbacks: one dropped by a rollback (of the
    transaction or of the savepoint it was registered in) is gone from there, and a new one is registered.
    """
    if not connection.in_atomic_block:  # nothing to wait for: on_commit would run it before the id is added
        hand_over = _HandOver()
        hand_over.delivery_ids.append(delivery_id)
        hand_over()
        return
    hand_over = next((func for _, func, _ in connection.run_on_commit if isinstance(func, _HandOver)), None)
    if hand_over is None:
        hand_over = _HandOver()
        transaction.on_commit(hand_over)
    hand_over.delivery_ids.append(delivery_id)


@transaction.atomic
def webhooks_dispatch(events: list[Event]) -> list[int]:
    """The events receiver: for each event, one delivery of `event.envelope()` per active subscription of the
    event's tenant whose patterns match, queued once committed; returns the new deliveries' ids. Idempotent, as the
    relay may hand an event over again: a delivery already made for (subscription, event) is neither made nor
    queued again.

    One query reads the subscriptions of every tenant in the batch and, on PostgreSQL, one INSERT ... ON CONFLICT
    DO NOTHING makes all the deliveries, so a relay batch costs two statements, whatever the number of its events.
    """
    tenant_ids = {event.tenant_id for event in events if event.tenant_id is not None}
    if not tenant_ids:
        return []
    subscriptions: dict[int, list[tuple[int, list[str]]]] = {}
    for subscription_id, tenant_id, patterns in (WebhookSubscription.objects.filter(tenant_id__in=tenant_ids,
                                                                                     active=True)
                                                 .order_by("pk").values_list("id", "tenant_id", "events")):
        subscriptions.setdefault(tenant_id, []).append((subscription_id, patterns))
    now = timezone.now()
    deliveries = [WebhookDelivery(tenant_id=event.tenant_id, subscription_id=subscription_id, event_id=event.pk,
                                  event_type=event.type, payload=event.envelope(), created_at=now)
                  for event in events for subscription_id, patterns in subscriptions.get(event.tenant_id, ())
                  if matches(patterns, event.type)]
    if not deliveries:
        return []
    made = _insert_new(deliveries)
    for delivery_id in made:
        _enqueue(delivery_id)
    return made


def _insert_new(deliveries: list[WebhookDelivery]) -> list[int]:
    """The ids of those of `deliveries` written now, skipping any (subscription, event) that has one already.
    PostgreSQL writes them all in one statement; other databases (the embedded SQLite default) one by one, each in
    a savepoint, the unique constraint deciding as ON CONFLICT does."""
    if connection.vendor != "postgresql":
        made = []
        for delivery in deliveries:
            try:
                with transaction.atomic():
                    delivery.save(force_insert=True)
            except IntegrityError:  # webhooks_one_delivery_per_event: made by an earlier relay of the event
                continue
            made.append(delivery.pk)
        return made
    row = "(%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebhookDelivery._meta.db_table} (tenant_id, subscription_id, event_id, event_type, payload,"
            f" status, attempt_count, series_start, created_at) VALUES {', '.join([row] * len(deliveries))}"
            f" ON CONFLICT (subscription_id, event_id) DO NOTHING RETURNING id",
            [value for delivery in deliveries for value in (
                delivery.tenant_id, delivery.subscription_id, delivery.event_id, delivery.event_type,
                orjson.dumps(delivery.payload).decode(), delivery.status, delivery.attempt_count,
                delivery.series_start, delivery.created_at)])
        return [delivery_id for delivery_id, in cursor.fetchall()]


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
    delivery.status, delivery.finished_at, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, None, Now()
    delivery.series_start = delivery.attempt_count  # a fresh series of retries
    delivery.save(update_fields=["status", "finished_at", "next_attempt_at", "series_start"])
    _enqueue(delivery.pk)
    return delivery

#: Seconds a claim adds to an attempt's longest wait (TIMEOUT_SECONDS per phase: connect, send, answer).
CLAIM_MARGIN_SECONDS = 30
#: How early a due attempt may be claimed: the clocks of the worker that waited out a backoff and of the
#: database may differ by this much.
CLAIM_EARLY_SECONDS = 1
#: Deliveries the sweep queues again per run; more wait for the next run.
REQUEUE_BATCH = 500


def delivery_claim(delivery: WebhookDelivery) -> bool:
    """Claim the attempt at `delivery` that is due now, for the calling worker; False when it is not this task's to
    make: finished meanwhile, attempted by another task, or claimed by one still at it (a second task for the same
    delivery, queued by the sweep while the first was slow, sends nothing). The claim holds for as long as an
    attempt may take; a worker that dies holding it leaves the delivery to the sweep once it has run out."""
    lease = timedelta(seconds=3 * webhooks_settings.TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS)
    return bool(WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempt_count=delivery.attempt_count,
        next_attempt_at__lte=Now() + Value(timedelta(seconds=CLAIM_EARLY_SECONDS)),
    ).update(next_attempt_at=Now() + Value(lease)))


@transaction.atomic
def deliveries_requeue_overdue() -> list[int]:
    """Queue again the pending deliveries whose attempt is REQUEUE_AFTER_SECONDS overdue: their task was lost (the
    queue was down when they were handed over, or a worker died holding one); returns their ids. The scheduled
    sweep calls it every minute. A delivery a worker holds, or waits to retry, is not overdue, and rows another
    sweep is re-queuing are skipped (row locks), so nothing is queued twice by it; were a slow task to run after
    all, only one of the two claims the attempt (delivery_claim)."""
    overdue = Now() - Value(timedelta(seconds=webhooks_settings.REQUEUE_AFTER_SECONDS))
    ids = list(WebhookDelivery.objects.select_for_update(skip_locked=True)
               .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=overdue)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:REQUEUE_BATCH])
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=Now())  # due now, not overdue again yet
        logger.warning("Queuing %d overdue webhook deliveries again", len(ids))
    for delivery_id in ids:
        _enqueue(delivery_id)
    return ids


def attempt_record(delivery: WebhookDelivery, *, outcome: str, retryable: bool, duration_ms: int,
                   status_code: int | None = None, excerpt: str = "", truncated: bool = False,
                   error: str = "") -> float | None:
    """Record one attempt at `delivery` (the copy it was made from) and what follows from it; returns the seconds
    until the next attempt, or None when the delivery has ended (or another task recorded first).

    One write (on PostgreSQL one statement) records the attempt, moves the delivery on and, on a success, ends the
    subscription's failure run; it matches only while the delivery is as it was read (pending, same attempt count), so a duplicate task
    that raced this one records nothing. A delivery that fails for good extends the failure run, and a run of
    DISABLE_AFTER_FAILURES switches the subscription off, with an audit entry.
    """
    subscription = delivery.subscription
    number = delivery.attempt_count + 1
    in_series = number - delivery.series_start
    delay, status = None, WebhookDelivery.Status.FAILED
    if outcome == WebhookAttempt.Outcome.SUCCEEDED:
        status = WebhookDelivery.Status.SUCCEEDED
    elif retryable and in_series <= subscription.max_retries:
        delay, status = subscription.retry_delay * 2 ** (in_series - 1), WebhookDelivery.Status.PENDING
    now = timezone.now()
    moved = {"status": status, "attempt_count": number, "finished_at": None if delay is not None else now}
    attempt = WebhookAttempt(delivery_id=delivery.pk, number=number, outcome=outcome, status_code=status_code,
                             duration_ms=duration_ms, response_excerpt=excerpt, response_truncated=truncated,
                             error=error[:500], will_retry_in=delay, created_at=now)
    ends_failure_run = status == WebhookDelivery.Status.SUCCEEDED and delivery.event_type != PING
    if not _record(delivery, moved, attempt, ends_failure_run=ends_failure_run):
        return None
    if status == WebhookDelivery.Status.FAILED and delivery.event_type != PING:
        _count_failure(subscription)
    return delay


def _record(delivery: WebhookDelivery, moved: dict[str, Any], attempt: WebhookAttempt, *,
            ends_failure_run: bool) -> bool:
    """Whether the delivery moved on (`moved`, and due again `attempt.will_retry_in` seconds from now when retried)
    and `attempt` was written: only if it is still pending at the attempt count it was read with. PostgreSQL does
    it in one statement; other databases (the embedded SQLite default, which has no UPDATE inside WITH) in a
    transaction whose conditional UPDATE's row count says whether this task won."""
    if connection.vendor != "postgresql":
        retry_in = attempt.will_retry_in
        with transaction.atomic():
            if not WebhookDelivery.objects.filter(
                    pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempt_count=delivery.attempt_count,
            ).update(**moved, next_attempt_at=F("next_attempt_at") if retry_in is None
                     else Now() + Value(timedelta(seconds=retry_in))):
                return False
            if ends_failure_run:
                WebhookSubscription.objects.filter(pk=delivery.subscription_id, consecutive_failures__gt=0).update(
                    consecutive_failures=0)
            attempt.save(force_insert=True)
        return True
    with connection.cursor() as cursor:
        cursor.execute(RECORD_ATTEMPT, [
            moved["status"], moved["attempt_count"], moved["finished_at"], attempt.will_retry_in, delivery.pk,
            WebhookDelivery.Status.PENDING, delivery.attempt_count, delivery.subscription_id, ends_failure_run,
            attempt.number, attempt.outcome, attempt.status_code, attempt.duration_ms, attempt.response_excerpt,
            attempt.response_truncated, attempt.error, attempt.will_retry_in, attempt.created_at])
        return cursor.fetchone() is not None


#: attempt_record's statement: the delivery moved on (due again after the backoff, if retried), the subscription's
#: failure run ended on a success, and the attempt written, all only if the delivery is still pending at the
#: attempt count it was read with.
RECORD_ATTEMPT = f"""
WITH delivery AS (
    UPDATE {WebhookDelivery._meta.db_table} SET status = %s, attempt_count = %s, finished_at = %s,
        next_attempt_at = COALESCE(now() + make_interval(secs => %s::float8), next_attempt_at)
    WHERE id = %s AND status = %s AND attempt_count = %s RETURNING id
), run_ended AS (
    UPDATE {WebhookSubscription._meta.db_table} SET consecutive_failures = 0
    WHERE id = %s AND %s AND consecutive_failures > 0 AND EXISTS (SELECT 1 FROM delivery)
)
INSERT INTO {WebhookAttempt._meta.db_table} (delivery_id, number, outcome, status_code, duration_ms,
    response_excerpt, response_truncated, error, will_retry_in, created_at)
SELECT id, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM delivery RETURNING id
"""


@transaction.atomic
def _count_failure(subscription: WebhookSubscription) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    limit = webhooks_settings.DISABLE_AFTER_FAILURES
    if subscription.active and subscription.consecutive_failures >= limit:
        subscription.active = False
        subscription.disabled_reason = f"Switched off after {subscription.consecutive_failures} failed deliveries in a row."
        subscription.save(update_fields=["active", "disabled_reason", "updated_at"])
        audit_record(AuditLog.Event.WEBHOOK_DISABLED, tenant=subscription.tenant, subscription_id=subscription.pk,
                     name=subscription.name, consecutive_failures=subscription.consecutive_failures)


@transaction.atomic
def delivery_abandon(delivery: WebhookDelivery, *, reason: str) -> None:
    """End a pending delivery without an attempt (its subscription was switched off meanwhile)."""
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, finished_at=timezone.now())
    logger.info("Webhook delivery %s abandoned: %s", delivery.pk, reason)

