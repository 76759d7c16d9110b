"""The relay: runs in a django-q2 worker after an event's transaction committed, and again from the sweep.

It hands each pending event to every registered receiver (apps/events/receivers.py) and to the channel layer
for /ws/events/ subscribers, then marks it relayed, all in one transaction holding the events' row locks.
A worker killed mid-relay rolls that transaction back, so the events stay pending and the sweep relays them
again: delivery is at least once, and receivers dedupe by event id.
"""
import logging
from datetime import datetime, timedelta

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
#: How far back a hand-off's relay looks. Its events were committed moments ago, and a relayed event's entry stays
#: in the `events_unrelayed` index until the table is vacuumed: a scan from the oldest pending event walks every
#: entry relayed since (1.7 ms and 843 index pages per relay with 300,000 of them), one from a minute ago only that
#: minute's (0.2 ms, 171 pages, with 60,000 of them in that minute). An event older than this when a relay starts (a
#: transaction that ran longer, a queue backed up for longer) is relayed by the sweep.
RECENT = timedelta(minutes=1)

logger = logging.getLogger("tessera.events")


def relay_events() -> int:
    """The sweep, every minute on the scheduler: relay every pending event. Returns how many it relayed."""
    return _relay(since=None)


def relay_recent_events() -> int:
    """The relay a hand-off queues after commits (handoff.py): relay the events of the last RECENT that are pending.
    Returns how many it relayed."""
    return _relay(since=timezone.now() - RECENT)


def _relay(*, since: datetime | None) -> int:
    """Relay the pending events that occurred since `since` (all when None), oldest first, in batches; events
    another relay holds are skipped, not waited for."""
    # Before reading: events committed from here on queue a relay of their own. (The sweep reads all that a relay
    # queued and waiting would, so it may clear the mark too.)
    task_started(RELAY_WAITING)
    pending = Event.objects.filter(relayed_at__isnull=True)
    if since is not None:
        pending = pending.filter(occurred_at__gte=since)
    relayed, failed = 0, set()
    while True:
        with transaction.atomic():
            batch = list(pending.select_for_update(skip_locked=True).exclude(pk__in=failed)
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
