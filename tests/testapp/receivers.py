"""A receiver of relayed events, registered in every process of a test run (the tests' and the workers').

It marks each event it receives in the shared cache, so a test sees what a worker relayed; and it holds the
relay of an event titled HOLD_TITLE (once per run of a test), long enough for the test to SIGKILL that worker.
"""
import os
import time

from django.core.cache import cache

HOLD_TITLE = "Hold the relay"
HELD_BY = "events-test:relay-held-by"


def received_key(event_id) -> str:
    return f"events-test:received:{event_id}"


def record(events) -> None:
    for event in events:
        if event.data.get("title") == HOLD_TITLE and cache.add(HELD_BY, os.getpid(), timeout=120):
            time.sleep(60)  # the test kills this worker while it waits here, holding the relay's transaction
        cache.set(received_key(event.id), os.getpid(), timeout=300)
