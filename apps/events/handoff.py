"""Handing committed events to the relay without a round trip on the request path.

A commit only puts the event's id on this process's queue (memory, no I/O). One background thread per process
wakes at the first id, lets the process's commits gather for HANDOFF_WINDOW_SECONDS (conf.py), and queues one relay
task (django-q2) for all of them, unless a relay queued by any process has not started yet: that one relays every
recent pending event, these included. A burst of commits, or a steady stream of them (a job's lifecycle events,
worker after worker), so costs a relay per window rather than one per commit. The queue is not the events' state: the
outbox is. An id lost here (the process died, the broker was down) leaves its event pending in PostgreSQL, and the
scheduled sweep relays it.
"""
import atexit
import logging
import os
import queue
import threading
import time

from apps.jobs.broker import queue_unless_waiting

from .conf import events_settings

RELAY = "apps.events.relay.relay_recent_events"
#: The mark of a relay queued and not started yet (`queue_unless_waiting`).
RELAY_WAITING = "events-relay"

logger = logging.getLogger("tessera.events")

_pending: queue.SimpleQueue = queue.SimpleQueue()
_started_in: int | None = None
_start_lock = threading.Lock()


def hand_to_relay(event_id) -> None:
    """`transaction.on_commit` callback of a recorded event: queue it for the background hand-off."""
    global _started_in
    _pending.put(str(event_id))
    if _started_in != os.getpid():  # a forked process starts its own thread
        with _start_lock:
            if _started_in != os.getpid():
                _started_in = os.getpid()
                threading.Thread(target=_hand_off_forever, name="events-handoff", daemon=True).start()
                atexit.register(hand_off_waiting)


def _hand_off_forever() -> None:
    while True:
        _pending.put(_pending.get())  # wait for an id, and leave it queued for an exit during the window (atexit)
        time.sleep(events_settings.HANDOFF_WINDOW_SECONDS)  # the commits of the window join this relay
        hand_off_waiting()


def hand_off_waiting() -> None:
    """Have every id waiting relayed: queue one relay unless one is waiting already (logged, never raised, when the
    broker fails)."""
    ids = []
    while True:
        try:
            ids.append(_pending.get_nowait())
        except queue.Empty:
            break
    if not ids:
        return
    try:
        queue_unless_waiting(RELAY, task_name=f"events-{ids[0]}", mark=RELAY_WAITING)
    except Exception:
        logger.error("Could not hand %d events to the relay; the sweep will relay them", len(ids), exc_info=True)
