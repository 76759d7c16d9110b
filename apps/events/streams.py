"""Channel-layer groups of /ws/events/: one per tenant and resource, and one per owner on owner-scoped resources.
The relay sends to them and the consumer joins them, so both name them here."""
import asyncio

from .models import Event

#: The consumer's handler method for relayed events (Channels maps "event.message" to `event_message`).
MESSAGE_TYPE = "event.message"


def group(*, tenant_id: int | None, resource: str, owner_id: int | None = None) -> str:
    """Everyone subscribed to `resource` in one tenant, or, with `owner_id`, to one owner's rows of it."""
    name = f"events-{tenant_id if tenant_id is not None else 'none'}-{resource.replace('/', '.')}"
    return f"{name}-user-{owner_id}" if owner_id is not None else name


def event_group(event: Event) -> str:
    return group(tenant_id=event.tenant_id, resource=event.resource, owner_id=event.owner_id)


async def send(layer, events: list[Event]) -> None:
    await asyncio.gather(*(layer.group_send(event_group(event), {"type": MESSAGE_TYPE, "resource": event.resource,
                                                                 "event": event.envelope()})
                           for event in events))
