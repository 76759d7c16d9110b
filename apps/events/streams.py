"""Channel-layer groups of /ws/events/: one per tenant and resource, and one per owner on owner-scoped resources.
The relay sends to them and the consumer joins them, so both name them here."""
from .models import Event

#: The consumer's handler method for relayed events (Channels maps "event.batch" to `event_batch`).
MESSAGE_TYPE = "event.batch"


def group(*, tenant_id: int | None, resource: str, owner_id: int | None = None) -> str:
    """Everyone subscribed to `resource` in one tenant, or, with `owner_id`, to one owner's rows of it."""
    name = f"events-{tenant_id if tenant_id is not None else 'none'}-{resource.replace('/', '.')}"
    return f"{name}-user-{owner_id}" if owner_id is not None else name


def event_group(event: Event) -> str:
    return group(tenant_id=event.tenant_id, resource=event.resource, owner_id=event.owner_id)


def messages(events: list[Event]) -> dict[str, dict]:
    """The relay's messages for `events`, by group: one per group with that group's events in the order they
    happened, so a burst costs a few sends rather than one per event, and cannot overflow a subscriber's channel
    (which holds a bounded number of messages)."""
    batches: dict[str, list[Event]] = {}
    for event in events:
        batches.setdefault(event_group(event), []).append(event)
    return {name: {"type": MESSAGE_TYPE, "resource": batch[0].resource, "events": [event.envelope() for event in batch]}
            for name, batch in batches.items()}
