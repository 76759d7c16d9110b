"""A process hands its committed events to the relay a window at a time (TESSERA_EVENTS["HANDOFF_WINDOW_SECONDS"]):
a steady stream of commits costs a relay per window, not one per commit, which is what the relay's per-run cost
(a task, a transaction, a send) made of a busy API. The window is checked at start-up (events.E002)."""
import time

import pytest
from django.core import checks
from django.db import transaction

from apps.events import handoff
from apps.events.services import event_record
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # the hand-off follows the commit


@pytest.fixture
def relays_queued(monkeypatch) -> list[str]:
    """The relays the hand-off thread queues (it asks the broker; this records the asking instead)."""
    queued = []

    def queue_unless_waiting(func, **options):
        queued.append(func)
        return True

    monkeypatch.setattr(handoff, "queue_unless_waiting", queue_unless_waiting)
    return queued


def commit_an_event(title: str) -> None:
    with transaction.atomic():
        event_record(type="tasks.created", resource="tasks", tenant_id=None, owner_id=None, data={"title": title})


def test_the_commits_of_one_window_queue_one_relay(settings, relays_queued):
    settings.TESSERA_EVENTS = {"HANDOFF_WINDOW_SECONDS": 0.5}

    for number in range(5):  # 50 ms apart: with no window, each would be handed over on its own
        commit_an_event(f"commit {number}")
        time.sleep(0.05)
    wait_for(lambda: relays_queued, timeout=5, what="the hand-off to queue a relay")
    commit_an_event("after the window")  # a commit after the hand-off starts the next window
    wait_for(lambda: len(relays_queued) == 2, timeout=5, what="the next window's relay")

    assert relays_queued == [handoff.RELAY, handoff.RELAY]


def test_with_no_window_every_hand_off_queues_its_relay_at_once(settings, relays_queued):
    settings.TESSERA_EVENTS = {"HANDOFF_WINDOW_SECONDS": 0}

    commit_an_event("first")
    wait_for(lambda: relays_queued, timeout=5, what="the hand-off to queue a relay")
    commit_an_event("second")
    wait_for(lambda: len(relays_queued) == 2, timeout=5, what="a second relay")


@pytest.mark.parametrize("window", [-1, 6, "0.2", True, None])
def test_a_window_that_is_not_0_to_5_seconds_is_e002(settings, window):
    settings.TESSERA_EVENTS = {"HANDOFF_WINDOW_SECONDS": window}

    errors = [error for error in checks.run_checks() if error.id.startswith("events.")]

    assert [error.id for error in errors] == ["events.E002"]
    assert "HANDOFF_WINDOW_SECONDS" in errors[0].msg
