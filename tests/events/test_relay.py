"""Committed events reach every receiver through the real worker cluster, at least once, even past a killed worker."""
import os
import signal
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from apps.events import receivers as receivers_module
from apps.events.models import Event
from apps.events.relay import RECENT, relay_events, relay_recent_events
from apps.events.schedules import SWEEP_NAME
from tests.testapp.receivers import HELD_BY, HOLD_TITLE, received_key
from tests.workers import wait_for


def relayed(event_id) -> Event | None:
    return Event.objects.filter(pk=event_id, relayed_at__isnull=False).first()


def unlocked(event_id) -> bool:
    """Whether no relay holds the event's row lock any more."""
    with transaction.atomic():
        return Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).exists()


def test_a_committed_event_is_relayed_to_the_receivers_by_a_worker(workers, user_client):
    user_client.post("/api/v1/tasks/", {"title": "Relay me"}, format="json")
    event = Event.objects.get(type="tasks.created")

    wait_for(lambda: relayed(event.pk), timeout=15, what="the relay to mark the event relayed")

    assert cache.get(received_key(event.pk)) not in (None, os.getpid())  # a worker's receiver got it


def test_an_event_whose_worker_was_killed_mid_relay_is_relayed_again_by_the_sweep(workers, user_client):
    cache.delete(HELD_BY)
    user_client.post("/api/v1/tasks/", {"title": HOLD_TITLE}, format="json")
    event = Event.objects.get(type="tasks.created")
    holder = wait_for(lambda: cache.get(HELD_BY), timeout=15, what="a worker to start relaying the event")
    # The scheduled sweep is put off: falling due before the look below, it would relay the event first.
    Schedule.objects.filter(name=SWEEP_NAME).update(next_run=timezone.now() + timedelta(hours=1))

    os.kill(holder, signal.SIGKILL)
    wait_for(lambda: unlocked(event.pk), timeout=10, what="the killed relay's transaction to end")

    assert relayed(event.pk) is None  # the relay died before it could finish: the event is still pending
    async_task(Schedule.objects.get(name=SWEEP_NAME).func)  # the sweep, as the scheduler runs it every minute
    wait_for(lambda: relayed(event.pk), timeout=15, what="the sweep to relay the event")
    assert cache.get(received_key(event.pk)) not in (None, holder)


def test_an_event_a_receiver_fails_on_stays_pending_while_the_others_are_relayed(transactional_db, monkeypatch,
                                                                                 user_client):
    received = []

    def picky(events):
        if any(event.data["title"] == "Refused" for event in events):
            raise RuntimeError("this receiver cannot take it now")
        received.extend(event.pk for event in events)

    monkeypatch.setattr(receivers_module, "_receivers", [picky])
    for title in ("First", "Refused", "Third"):
        user_client.post("/api/v1/tasks/", {"title": title}, format="json")

    relayed_count = relay_events()

    pending = Event.objects.filter(relayed_at__isnull=True)
    assert relayed_count == 2
    assert [event.data["title"] for event in pending] == ["Refused"]
    assert set(received) == set(Event.objects.filter(relayed_at__isnull=False).values_list("pk", flat=True))


def test_the_relay_a_commit_queues_reads_the_last_minute_and_leaves_older_pending_events_to_the_sweep(db, user_client):
    for title in ("Committed after a long transaction", "Committed now"):
        user_client.post("/api/v1/tasks/", {"title": title}, format="json")
    Event.objects.filter(data__title="Committed after a long transaction").update(
        occurred_at=timezone.now() - RECENT - timedelta(seconds=1))

    assert relay_recent_events() == 1
    assert [event.data["title"] for event in Event.objects.filter(relayed_at__isnull=True)] == [
        "Committed after a long transaction"]
    assert relay_events() == 1  # the sweep
    assert not Event.objects.filter(relayed_at__isnull=True).exists()
