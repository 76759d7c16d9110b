"""Recording change events. The one write is the outbox INSERT in the caller's transaction; the relay is handed
the event only once that transaction commits, so a rolled-back change emits nothing."""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django_q.tasks import async_task

from .models import Event

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

RELAY = "apps.events.relay.relay_events"

logger = logging.getLogger("tessera.events")


def event_record(*, type: str, resource: str, tenant: Tenant | None, owner: User | None,
                 data: dict[str, Any]) -> Event:
    """Write one event to the outbox (one INSERT, nothing read) and relay it after commit.

    Call it inside the change's transaction. A queue that cannot take the relay is only logged: the event is
    committed, and the scheduled sweep relays it.
    """
    event = Event.objects.create(type=type, resource=resource, tenant=tenant, owner=owner, data=data)
    transaction.on_commit(partial(_hand_to_relay, event.pk))
    return event


def _hand_to_relay(event_id) -> None:
    try:
        async_task(RELAY, str(event_id), task_name=f"event-{event_id}")
    except Exception:
        logger.error("Could not hand event %s to the relay; the sweep will relay it", event_id, exc_info=True)
