"""The relay: runs in a django-q2 worker after an event's transaction committed, and again from the sweep.

It hands each pending event to every registered receiver (apps/events/receivers.py) and to the channel layer
for /ws/events/ subscribers, then marks it relayed, all in one transaction holding the events' row locks.
A worker killed mid-relay rolls that transaction back, so the events stay pending and the sweep relays them
again: delivery is at least once, and receivers dedupe by event id.
"""
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from . import streams
from .models import Event
from .receivers import receivers

#: Events relayed per transaction: the first relay of a burst takes a batch, later ones find it done.
BATCH_SIZE = 200
SWEEP_NAME = "tessera.events.sweep"

logger = logging.getLogger("tessera.events")


def relay_events(event_id: str | None = None) -> int:
    """Relay every pending event, oldest first (`event_id`, the one this relay was queued for, is among them
    unless another relay took it). Events locked by a concurrent relay are skipped, not waited for.
    Returns how many were relayed."""
    relayed, failed = 0, set()
    while True:
        with transaction.atomic():
            batch = list(Event.objects.select_for_update(skip_locked=True)
                         .filter(relayed_at__isnull=True).exclude(pk__in=failed)
                         .order_by("occurred_at")[:BATCH_SIZE])
            done = [event for event in batch if _hand_to_receivers(event, failed)]
            if done:
                _publish(done)
                Event.objects.filter(pk__in=[event.pk for event in done]).update(relayed_at=timezone.now())
        relayed += len(done)
        if len(batch) < BATCH_SIZE:
            return relayed


def relay_sweep() -> int:
    """The schedule's entry point: relay what a dead worker or an unreachable queue left pending."""
    return relay_events()


def _hand_to_receivers(event: Event, failed: set) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a receiver that fails takes back only its own writes
            for receiver in receivers():
                receiver(event)
    except Exception:
        logger.exception("A receiver failed on event %s (%s); it stays pending for the sweep", event.pk, event.type)
        failed.add(event.pk)
        return False
    return True


def _publish(events: list[Event]) -> None:
    """Send the events to their /ws/events/ groups. A channel layer outage is logged: the live stream is
    best-effort, the outbox and the receivers are not."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(streams.send)(layer, events)
    except Exception:
        logger.error("Could not publish %s events to the channel layer", len(events), exc_info=True)
