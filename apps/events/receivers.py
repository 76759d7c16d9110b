"""Who receives relayed events in the worker: functions other apps register once, in their AppConfig.ready().

    from apps.events.receivers import register

    def deliver(events):         # a list of apps.events.models.Event, oldest first (event.envelope() is the JSON)
        ...

    register(deliver)

A receiver is handed the events of one relay batch together, so it can read what they need and write what
they make in a few statements for the whole batch rather than a few for each event. It runs inside the relay's
transaction, at least once per relayed event: the relay may run again for the same events after a worker died
mid-relay, so a receiver must be idempotent per `event.id`. A receiver that raises has its writes for the batch
rolled back; the relay then hands it the batch's events one at a time, so only the event it fails on stays
unrelayed, for the sweep to relay again later.
"""
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Event

Receiver = Callable[[list["Event"]], None]

_receivers: list[Receiver] = []


def register(receiver: Receiver) -> Receiver:
    """Call `receiver(events)` for every batch of relayed events. Registering the same function twice is a no-op.
    Returns the function, so it can be used as a decorator."""
    if receiver not in _receivers:
        _receivers.append(receiver)
    return receiver


def receivers() -> tuple[Receiver, ...]:
    return tuple(_receivers)
