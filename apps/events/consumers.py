"""/ws/events/: live change events of the resources a socket subscribes to, seen as the HTTP list sees rows.

Authenticate with a JWT (the `tessera.bearer` subprotocol, `Authorization: Bearer`, `?token=`), a ticket
(`?ticket=`), an `X-API-Key` header or the session, as on /ws/jobs/; `?tenant=` picks the tenant. Subscribe with
`?resources=tasks,jobs` or by sending `{"subscribe": ["tasks"]}` (and `{"unsubscribe": [...]}`); each
subscription is answered with `{"type": "subscribed", "resources": [...], "refused": {name: reason}}`. Then every
event arrives as it is delivered to webhooks: `{id, type, tenant, occurred_at, data}`; receivers dedupe by `id`.

A resource is granted only when the caller holds its read scope in the tenant (the HTTP list's `HasScope`), and
the socket then joins the group of exactly the rows that list shows: the tenant's, and on an owner-scoped
resource (tasks, jobs) only the caller's own. An event stream of rows no resource serves (`tenants/members`,
apps.api.events.EventStream) is granted as its HTTP read is: its scope, and its own check (the tenant's managers). Close codes: 4401 not authenticated, 4403 not a member of the
tenant, 4503 channel layer unreachable.
"""
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from apps import api
from apps.accounts.models import ApiKey
from apps.api import field_access
from apps.api.events import EventStream, declared_events, get_stream
from apps.jobs.consumers import ApiSocketConsumer, enter
from apps.jobs.socket_auth import SocketRequest

from . import streams


def subscription_group(request: SocketRequest, name: str) -> tuple[str | None, str]:
    """The group of `name`'s events `request` may receive, or None and the reason it may not."""
    stream = get_stream(name)
    if stream is not None:
        return stream_group(request, stream)
    declared = next((r for r in api.site.resources() if r.name == name), None)
    resource = api.site.effective_resource(declared.model) if declared is not None else None
    if resource is None or not resource.enabled or not declared_events(resource):
        return None, "not a resource with change events"
    if resource.scope_for("list") not in request.scopes or (resource.personal and isinstance(request.auth, ApiKey)):
        return None, f"needs the {resource.scope_for('list')} scope"
    if type(resource).visibility is not None:
        return None, "its rows follow a visibility policy that events cannot (yet) be filtered by"
    if field_access.roles_of(request, resource.row_filters):
        return None, "your role sees some of its rows only (row_filters), which events cannot (yet) be filtered by"
    if resource.tenant_field and request.tenant is None:
        return None, "no active tenant: send ?tenant= with a tenant you are a member of"
    return streams.group(tenant_id=request.tenant.pk if resource.tenant_field else None, resource=resource.name,
                         owner_id=request.user.pk if resource.owner_field else None), ""


def stream_group(request: SocketRequest, stream: EventStream) -> tuple[str | None, str]:
    """The tenant's group of an event stream (memberships), for whom its HTTP read serves: the stream's read
    scope, then the stream's own check of the caller in the active tenant."""
    if stream.scope not in request.scopes:
        return None, f"needs the {stream.scope} scope"
    if request.tenant is None:
        return None, "no active tenant: send ?tenant= with a tenant you are a member of"
    if not stream.allows(request.tenant, request.user):
        return None, stream.refusal
    return streams.group(tenant_id=request.tenant.pk, resource=stream.name), ""


class EventsConsumer(ApiSocketConsumer):
    """/ws/events/: change events of the subscribed resources, scoped per tenant, scope and owner."""

    async def connect(self) -> None:
        await self.accept()
        request = self.scope["request"]
        refusal = await database_sync_to_async(enter)(request)
        if refusal:
            await self.close(code=refusal)
            return
        self.subscriptions: dict[str, str] = {}
        self.resources: dict[str, Any] = {}
        query = parse_qs(self.scope.get("query_string", b"").decode())
        names = [name for value in query.get("resources", []) for name in value.split(",") if name]
        if names:
            await self.subscribe(names)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and _names(content.get("subscribe")) is not None:
            await self.subscribe(_names(content["subscribe"]))
        elif isinstance(content, dict) and _names(content.get("unsubscribe")) is not None:
            await self.unsubscribe(_names(content["unsubscribe"]))
        else:
            await self.send_json({"type": "error", "message": 'Send {"subscribe": ["<resource>", ...]} or '
                                                              '{"unsubscribe": [...]}, with resource names.'})

    async def subscribe(self, names: list[str]) -> None:
        refused = {}
        for name in names:
            # A stream's check reads the caller's membership, so the grant is decided off the event loop.
            group, reason = await database_sync_to_async(subscription_group)(self.scope["request"], name)
            if group is None:
                refused[name] = reason
            elif name not in self.subscriptions:
                await self.channel_layer.group_add(group, self.channel_name)
                self.subscriptions[name] = group
                # None for a stream: its data is what its readers may read whole (no field permissions).
                self.resources[name] = next((r for r in api.site.resources() if r.name == name), None)
        await self.send_json({"type": "subscribed", "resources": sorted(self.subscriptions), "refused": refused})

    async def unsubscribe(self, names: list[str]) -> None:
        for name in names:
            self.resources.pop(name, None)
            group = self.subscriptions.pop(name, None)
            if group is not None:
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.send_json({"type": "subscribed", "resources": sorted(self.subscriptions), "refused": {}})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "subscriptions", {}).values():
            await self.channel_layer.group_discard(group, self.channel_name)

    async def event_batch(self, message: dict[str, Any]) -> None:
        """Relayed events of one subscribed resource, oldest first (streams.messages), sent to the client one by one."""
        if message["resource"] not in self.subscriptions:
            return
        resource, request = self.resources[message["resource"]], self.scope["request"]
        for event in message["events"]:  # less the fields the caller's role may not read (field_permissions)
            data = event["data"] if resource is None else field_access.visible_data(event["data"], resource, request)
            await self.send_json({**event, "data": data})


def _names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    return None

