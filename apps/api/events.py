"""Change events as the generator declares them: which changes a resource announces, and the announcement.

The generator records nothing itself. It sends `row_changed` inside the change's transaction, and the events
app (apps/events, above the generator) writes the outbox row from it. A resource that declares no events pays
nothing: no transaction is opened for it, nothing is rendered and no signal is sent.

Rows no resource serves (memberships, managed by a resource's routed actions) announce their changes on a
declared `EventStream` instead: its services call `publish()`, which sends the same signal, so both reach the
outbox through the events app's one recording function and travel to webhooks and /ws/events/ alike.
"""
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.dispatch import Signal
from rest_framework import serializers

from .actions import ActionSpec

if TYPE_CHECKING:
    from rest_framework.serializers import BaseSerializer

    from .resources import Resource

#: The event each generated write announces, by DRF action name.
OPERATION_EVENTS = {"create": "created", "update": "updated", "partial_update": "updated", "destroy": "deleted"}

#: Sent inside the change's transaction for every change a resource declared an event for, with the keyword
#: arguments `resource` (the Resource), `event` ("created", an action's name, ...), `type` ("tasks.created"),
#: `instance` (the row; after a delete its pk is gone, its tenant and owner ids are not) and `data` (the row
#: as the resource's serializer renders it, rendered before a delete).
row_changed = Signal()

#: Sent inside the change's transaction by `publish()` for a change on an event stream, with the keyword
#: arguments `stream` (the EventStream), `type` ("membership.created"), `tenant_id` and `data`.
stream_changed = Signal()


def available_events(resource: "Resource") -> tuple[str, ...]:
    """Every event the resource can announce: its generated writes', its writing detail actions', its lifecycle
    events. (A GET action reads; a list action changes no one row an event could carry.)"""
    writes = [OPERATION_EVENTS[op] for op in ("create", "update", "destroy") if op in resource.operations]
    actions = [name for name, spec in resource.actions.items() if changes_a_row(spec)]
    return tuple(dict.fromkeys([*writes, *actions, *resource.lifecycle_events]))


def changes_a_row(spec: ActionSpec) -> bool:
    return spec.detail and bool(set(spec.methods) - {"get", "head", "options"})


def declared_events(resource: "Resource") -> frozenset[str]:
    """The events the resource announces: all it can when `events = True`, else the ones it lists."""
    if resource.events is True:
        return frozenset(available_events(resource))
    return frozenset(resource.events or ())


def announces(resource: "Resource", event: str) -> bool:
    return bool(resource.events) and event in declared_events(resource)


def event_type(resource: "Resource", event: str) -> str:
    """`<event_name>.<event>`: "tasks.created", "job.started"."""
    return f"{resource.event_name or resource.name}.{event}"


def atomic_if_announced(resource: "Resource", event: str) -> AbstractContextManager:
    """The transaction a change and its event share, when the resource announces `event`; else nothing. Inside a
    transaction already (a bulk write, an action's service) they share that one: no savepoint per row."""
    if announces(resource, event) and not transaction.get_connection().in_atomic_block:
        return transaction.atomic()
    return nullcontext()


def render(resource: "Resource", instance: models.Model) -> dict[str, Any]:
    """The row as the resource's serializer renders it for any reader holding its read scope. It is rendered
    without a request, so nothing only the caller of one request may see (a secret shown once) is in it."""
    return _renderer(resource.site.get_serializer(resource.model)).to_representation(instance)


@lru_cache(maxsize=256)
def _renderer(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One serializer of the class renders every event's row, as a list's one child serializer renders every row
    of a page: its fields are built (a deep copy of the class's) once, not again for each event, which was most of
    what announcing a change cost. Its context never changes, and rendering a row keeps no state on it."""
    return serializer_class(context={"request": None})


def announce(resource: "Resource", event: str, instance: models.Model, *, data: dict | None = None) -> None:
    """Send `row_changed` for `event` on `instance`, if the resource announces it. Call it inside the change's
    transaction; pass `data` when the row must be rendered earlier (before a delete)."""
    if not announces(resource, event):
        return
    row_changed.send(sender=type(resource), resource=resource, event=event, type=event_type(resource, event),
                     instance=instance, data=render(resource, instance) if data is None else data)


def emit(instance: models.Model, event: str) -> None:
    """For services: announce a lifecycle event (`"started"`, `"completed"`) of a row of a registered resource,
    as `api.events.emit(job, "started")`, inside the transaction of the state change it reports."""
    from .sites import site

    announce(site.get_resource(type(instance)), event, instance)


@dataclass(frozen=True)
class EventStream:
    """Change events of rows no resource serves, declared in the owning app's api.py with `event_stream()`.

    Subscribers read them as they read the rows over HTTP: /ws/events/ grants `name` to a caller holding `scope`
    in the active tenant whom `allows(tenant, user)` lets read the rows (the same check the HTTP read makes),
    and every event is the tenant's, for the tenant's subscribers.
    """

    #: What /ws/events/ subscribes to ("tenants/members"), as a resource's name.
    name: str
    #: The first part of the event types: "membership" -> "membership.created".
    event_name: str
    #: The read scope the HTTP read of these rows requires ("tenants:read").
    scope: str
    #: Renders `data`, as the HTTP read renders the rows (without a request: nothing shown only once).
    serializer: "type[BaseSerializer]"
    #: `allows(tenant, user)`: whether the user may read the tenant's rows, beyond holding `scope`.
    allows: Callable[[Any, Any], bool]
    #: Why /ws/events/ refuses a caller `allows` turns down.
    refusal: str


_streams: dict[str, EventStream] = {}


def event_stream(name: str, **declaration: Any) -> EventStream:
    """Declare the stream `name` (see EventStream); a second declaration of a name is a mistake (check api.E065
    refuses a stream named as a resource, which is registered in any order)."""
    if name in _streams:
        raise ValueError(f"The event stream {name!r} is already declared.")
    _streams[name] = EventStream(name=name, **declaration)
    return _streams[name]


def get_stream(name: str) -> EventStream | None:
    return _streams.get(name)


def streams() -> tuple[EventStream, ...]:
    return tuple(_streams.values())


def publish(stream_name: str, event: str, instance: models.Model, *, tenant_id: int) -> None:
    """For services: announce `event` ("created", "updated", "deleted") of `instance` on the declared stream,
    inside the transaction of the change (after a delete the instance still renders: its related ids stay)."""
    stream = _streams[stream_name]
    data = stream.serializer(instance, context={"request": None}).data
    stream_changed.send(sender=EventStream, stream=stream, type=f"{stream.event_name}.{event}", tenant_id=tenant_id,
                        data=data)
