"""The worker side of webhooks: the django-q2 entry points that sign and POST deliveries (`deliver_batch`) and
retry them (`deliver_retry`), recording each attempt through the services, waiting out or scheduling the backoff.

Retried: timeouts, connection errors, 408, 429 and 5xx. Not retried: other 4xx, redirects (never followed:
a redirect could lead anywhere, the checks notwithstanding) and refused targets.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import lru_cache

import httpx
import orjson
from django import db
from django.utils import timezone
from django_q.models import Schedule
from standardwebhooks.webhooks import Webhook

from apps.jobs.broker import queue_task

from . import services
from .conf import webhooks_settings
from .models import WebhookAttempt, WebhookDelivery
from .targets import TargetRefused, resolve_target

logger = logging.getLogger("tessera.webhooks")

RETRY = "apps.webhooks.delivery.deliver_retry"
RETRYABLE_STATUSES = frozenset({408, 429})
USER_AGENT = "Tessera-Webhooks/1"


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    """One connection pool per worker process; the timeout is set per request (settings may change in tests)."""
    return httpx.Client(follow_redirects=False, trust_env=False)


def deliver_batch(delivery_ids: list[int]) -> None:
    """The entry point of new deliveries: the first attempt at each still pending (read in one query), CONCURRENCY
    at a time, so no order among them is promised (receivers order by `occurred_at`). One that is to be retried
    continues as a task of its own, so its backoff holds up no other delivery."""
    pending = _pending(delivery_ids)
    for delivery, delay in zip(pending, _threads().map(_attempt_on_thread, pending), strict=True):
        if delay is not None:
            queue_task(RETRY, delivery.pk, delay, task_name=f"webhook-delivery-{delivery.pk}-retry")


def deliver_retry(delivery_id: int, delay: float) -> None:
    """A delivery's retries: wait out `delay` and attempt again, until the delivery ends or a backoff is too long
    to wait in a worker (INLINE_RETRY_MAX_SECONDS); that one is left to the django-q2 scheduler."""
    while delay is not None:
        if delay > webhooks_settings.INLINE_RETRY_MAX_SECONDS:
            Schedule.objects.create(name=f"webhook-delivery-{delivery_id}-{time.time_ns()}", func=RETRY,
                                    args=f"{delivery_id}, 0", schedule_type=Schedule.ONCE,
                                    next_run=timezone.now() + timedelta(seconds=delay), repeats=1)
            return
        time.sleep(delay)
        delay = next((_attempt(delivery) for delivery in _pending([delivery_id])), None)


@lru_cache(maxsize=1)
def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=webhooks_settings.CONCURRENCY, thread_name_prefix="webhook-delivery")


def _attempt_on_thread(delivery: WebhookDelivery) -> float | None:
    try:
        return _attempt(delivery)
    finally:
        db.connections.close_all()  # the thread's connection goes back to the pool between batches


def _pending(delivery_ids: list[int]) -> list[WebhookDelivery]:
    """The deliveries still pending (a duplicate hand-over finds the others finished, and does nothing)."""
    return list(WebhookDelivery.objects.select_related("subscription")
                .filter(pk__in=delivery_ids, status=WebhookDelivery.Status.PENDING).order_by("pk"))


def _attempt(delivery: WebhookDelivery) -> float | None:
    """One attempt at the delivery, recorded; the seconds until the next one, or None."""
    if not delivery.subscription.active and delivery.event_type != services.PING:
        services.delivery_abandon(delivery, reason="its subscription is switched off")
        return None
    if not services.delivery_claim(delivery):  # another task has it, or it was finished meanwhile
        return None
    return services.attempt_record(delivery, **attempt(delivery))


def sweep_pending() -> int:
    """The scheduled sweep (every minute): queue again the deliveries whose task was lost; returns how many."""
    return len(services.deliveries_requeue_overdue())


def signed_headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers (the event id as `webhook-id`, the same for every attempt) and the
    subscription's extra headers, which never replace them nor go beside them: one spelled in another case
    (`Content-Type`) is left out, so each is sent once, with Tessera's value."""
    subscription = delivery.subscription
    now = timezone.now()
    signature = Webhook(services.signing_secret(subscription)).sign(msg_id=str(delivery.event_id), timestamp=now, data=body)
    own = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": str(delivery.event_id),
           "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    extra = {name: value for name, value in subscription.headers.items() if name.lower() not in own}
    return {**extra, **own}


def attempt(delivery: WebhookDelivery) -> dict:
    """One POST of the delivery, described as `services.attempt_record` takes it. Never raises for the
    receiver's faults; nothing of the request (secret, signature, extra headers) goes into the record."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve_target(delivery.subscription.url)
    except TargetRefused as refusal:
        return {"outcome": WebhookAttempt.Outcome.REFUSED_TARGET, "retryable": False, "duration_ms": elapsed(),
                "error": str(refusal)}
    body = orjson.dumps(delivery.payload)
    headers = {**signed_headers(delivery, body), "host": target.host_header}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    limit = webhooks_settings.RESPONSE_EXCERPT_CHARS
    try:
        with _client().stream("POST", target.pinned_url(delivery.subscription.url), content=body, headers=headers,
                              timeout=webhooks_settings.TIMEOUT_SECONDS, extensions=extensions) as response:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) > limit * 4:  # enough bytes for `limit` characters of any encoding
                    break
            code = response.status_code
    except httpx.TimeoutException as error:
        return {"outcome": WebhookAttempt.Outcome.TIMEOUT, "retryable": True, "duration_ms": elapsed(),
                "error": f"No answer within {webhooks_settings.TIMEOUT_SECONDS:g} s ({type(error).__name__})."}
    except httpx.HTTPError as error:
        return {"outcome": WebhookAttempt.Outcome.CONNECTION_ERROR, "retryable": True, "duration_ms": elapsed(),
                "error": f"{type(error).__name__}: {error}"}
    text = received.decode("utf-8", errors="replace")
    succeeded = 200 <= code < 300
    return {"outcome": WebhookAttempt.Outcome.SUCCEEDED if succeeded else WebhookAttempt.Outcome.HTTP_ERROR,
            "retryable": code in RETRYABLE_STATUSES or code >= 500, "duration_ms": elapsed(), "status_code": code,
            "excerpt": text[:limit], "truncated": len(text) > limit or not response.is_stream_consumed}
