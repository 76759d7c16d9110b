"""Who receives relayed events in the worker: functions other apps register once, in their AppConfig.ready().

    from apps.events.receivers import register

    def deliver(event):          # event: apps.events.models.Event (call event.envelope() for the JSON)
        ...

    register(deliver)

A receiver runs inside the relay's transaction, once per relayed event and at least once: the relay may run
again for the same event after a worker died mid-relay, so a receiver must be idempotent per `event.id`.
A receiver that raises leaves the event unrelayed (its database writes for that event rolled back); the
sweep relays it again later.
"""
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Event

Receiver = Callable[["Event"], None]

_receivers: list[Receiver] = []


def register(receiver: Receiver) -> Receiver:
    """Call `receiver(event)` for every relayed event. Registering the same function twice is a no-op.
    Returns the function, so it can be used as a decorator."""
    if receiver not in _receivers:
        _receivers.append(receiver)
    return receiver


def receivers() -> tuple[Receiver, ...]:
    return tuple(_receivers)
