"""Recording change events. The one write is the outbox INSERT in the caller's transaction; the relay is handed
the event only once that transaction commits, so a rolled-back change emits nothing."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction

from .handoff import hand_to_relay
from .models import Event

if TYPE_CHECKING:
    from django.db.models import Model

    from apps.api.events import EventStream
    from apps.api.resources import Resource


def event_record(*, type: str, resource: str, tenant_id: int | None, owner_id: int | None,
                 data: dict[str, Any]) -> Event:
    """Write one event to the outbox (one INSERT, nothing read) and relay it after commit.

    Call it inside the change's transaction. The commit hands the event to a background thread (handoff.py),
    so the request pays the INSERT and nothing else.
    """
    event = Event.objects.create(type=type, resource=resource, tenant_id=tenant_id, owner_id=owner_id, data=data)
    transaction.on_commit(partial(hand_to_relay, event.pk))
    return event


def record_change(sender: type[Resource], *, resource: Resource, type: str, instance: Model, data: dict[str, Any],
                  **kwargs: Any) -> Event:
    """`apps.api.events.row_changed` receiver: the outbox row of a change a resource announced. Tenant and owner
    are read as ids from the row, so no related row is fetched."""
    return event_record(type=type, resource=resource.name, tenant_id=_id_of(instance, resource.tenant_field),
                        owner_id=_id_of(instance, resource.owner_field), data=data)


def record_stream_change(sender: type, *, stream: EventStream, type: str, tenant_id: int, data: dict[str, Any],
                         **kwargs: Any) -> Event:
    """`apps.api.events.stream_changed` receiver: the outbox row of a change a service published on an event
    stream (memberships). The tenant's event, for every subscriber of the stream in the tenant (no owner)."""
    return event_record(type=type, resource=stream.name, tenant_id=tenant_id, owner_id=None, data=data)


def _id_of(instance: Model, field_name: str | None) -> int | None:
    return getattr(instance, instance._meta.get_field(field_name).attname) if field_name else None
