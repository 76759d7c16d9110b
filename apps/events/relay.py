"""The relay: runs in a django-q2 worker after an event's transaction committed, and again from the sweep.

It hands each pending event to every registered receiver (apps/events/receivers.py) and to the channel layer
for /ws/events/ subscribers, then marks it relayed, all in one transaction holding the events' row locks.
A worker killed mid-relay rolls that transaction back, so the events stay pending and the sweep relays them
again: delivery is at least once, and receivers dedupe by event id.
"""
import logging

from django.db import transaction
from django.utils import timezone

from apps.jobs.broker import task_started
from apps.platform import publisher

from . import streams
from .handoff import RELAY_WAITING
from .models import Event
from .receivers import receivers

#: Events relayed per transaction: the first relay of a burst takes a batch, later ones find it done.
BATCH_SIZE = 200

logger = logging.getLogger("tessera.events")


def relay_events() -> int:
    """Relay every pending event, oldest first, in batches; events another relay holds are skipped, not waited
    for. Queued after commits (handoff.py) and every minute by the sweep schedule. Returns how many it relayed."""
    task_started(RELAY_WAITING)  # before reading: events committed from here on queue a relay of their own
    relayed, failed = 0, set()
    while True:
        with transaction.atomic():
            batch = list(Event.objects.select_for_update(skip_locked=True)
                         .filter(relayed_at__isnull=True).exclude(pk__in=failed)
                         .order_by("occurred_at")[:BATCH_SIZE])
            done = _hand_to_receivers(batch, failed)
            if done:
                _publish(done)
                Event.objects.filter(pk__in=[event.pk for event in done]).update(relayed_at=timezone.now())
        relayed += len(done)
        if len(batch) < BATCH_SIZE:
            publisher.flush()  # the sends go on while the batches are relayed, and end before the task does
            return relayed


def _hand_to_receivers(batch: list[Event], failed: set) -> list[Event]:
    """The events of `batch` every receiver took. The batch goes to each receiver at once, in one savepoint; if a
    receiver fails, the batch is handed again event by event, so a receiver's failure takes back only that event's
    writes (the others' are repeated, which receivers dedupe by event id) and leaves only that event pending for
    the sweep."""
    try:
        with transaction.atomic():
            for receiver in receivers():
                receiver(batch)
        return batch
    except Exception:
        if len(batch) == 1:
            logger.exception("A receiver failed on event %s (%s); it stays pending for the sweep",
                             batch[0].pk, batch[0].type)
            failed.add(batch[0].pk)
            return []
    return [event for event in batch if _hand_to_receivers([event], failed)]


def _publish(events: list[Event]) -> None:
    """Send the events to their /ws/events/ groups, without waiting for the channel layer: the live stream is
    best-effort (an outage is logged), the outbox and the receivers are not."""
    publisher.send_soon(streams.messages(events), what=f"{len(events)} events")
