"""WebSocket consumers: authenticate, check visibility with the API's own rules, join a group, forward events.

Close codes: 4401 not authenticated, 4403 not a member of the requested tenant, 4404 not your job,
4503 the channel layer is unreachable (try again later). Sockets are accepted and then closed with the
code, so browsers see the code (a refused handshake reaches them only as 1006).

On the embedded default the channel layer lives in one process, so events a worker process sends
cannot reach it; there the consumers read the job table every half second instead (same messages).
"""
import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import redis
from asgiref.sync import sync_to_async
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps import api
from apps.api.errors import PermissionDenied
from apps.api.scoping import AccessContext, resolve_access, scope_queryset
from apps.platform.metrics import record_socket_failure

from . import events
from .models import Job
from .socket_auth import SocketRequest

NOT_AUTHENTICATED, NOT_A_MEMBER, NOT_FOUND, LAYER_UNAVAILABLE = 4401, 4403, 4404, 4503
POLL_INTERVAL = 0.5
#: What a channel layer raises when its store cannot be reached (channels_redis: redis-py's errors).
CHANNEL_LAYER_ERRORS = (redis.RedisError, OSError)

logger = logging.getLogger(__name__)


def enter(request: SocketRequest) -> int | None:
    """Resolve tenant and scopes as for an HTTP request, onto `request`; the close code when the caller is not
    authenticated or may not enter the tenant asked for. (Sync: call it through `database_sync_to_async`.)"""
    if not request.user.is_authenticated:
        return NOT_AUTHENTICATED
    try:
        request.tenant, request.tenant_role, request.scopes = resolve_access(AccessContext.of(request))
    except PermissionDenied:
        return NOT_A_MEMBER
    return None


@database_sync_to_async
def enter_socket(request: SocketRequest, *, scope: str = "jobs:read") -> int | None:
    """`enter`, and a stream's own rule: a tenant and the `scope` the stream needs, else 4404 (other apps'
    consumers call it with theirs)."""
    refusal = enter(request)
    if refusal is None and (request.tenant is None or scope not in request.scopes):
        return NOT_FOUND
    return refusal


@database_sync_to_async
def _visible_job(request: SocketRequest, job_id: int) -> Job | None:
    """The job, if the jobs resource's scoping (the same chokepoint as GET /jobs/{id}/) shows it."""
    resource = api.site.get_resource(Job)
    return scope_queryset(Job.objects.filter(pk=job_id), request=request, resource=resource).first()


@database_sync_to_async
def _events_since(jobs, seen: dict) -> list[dict]:
    """Events of `jobs` whose state differs from what `seen` (job id -> last event) records; updates `seen`."""
    fresh = []
    for job in jobs:
        event = events.job_event(job)
        if seen.get(job.pk) != event:
            seen[job.pk] = event
            fresh.append(event)
    return fresh


class ApiSocketConsumer(AsyncJsonWebsocketConsumer):
    """What the API's sockets share: the bearer subprotocol answered, and a channel layer failure closed as 4503."""

    accepted = False

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        """Serve the socket; if the channel layer fails (joining a group, or the layer's receive loop that
        channels runs beside the client's), close with 4503 rather than let the error become a 500 handshake
        or a bare 1011. The failure is logged and counted (`tessera_websocket_failures_total`)."""
        try:
            await super().__call__(scope, receive, send)
        except CHANNEL_LAYER_ERRORS:
            logger.warning("Channel layer unreachable: WebSocket %s closed with %s", scope["path"],
                           LAYER_UNAVAILABLE, exc_info=True)
            await sync_to_async(record_socket_failure)("channel_layer")
            if not self.accepted:
                await self.accept()
            await self.close(code=LAYER_UNAVAILABLE)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand each message to its handler, as Channels does, without Channels' hop to its sync thread to close
        stale database connections first: these sockets read the database only through `database_sync_to_async`,
        which closes them around each read, so the hop per message bought nothing, and every job's progress message
        waited in line for the one sync thread to take it."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def publisher_batch(self, message: dict[str, Any]) -> None:
        """Several messages for this socket's group sent as one (apps/platform/publisher.py), handled in order."""
        for each in message["messages"]:
            await self.dispatch(each)

    async def accept(self, subprotocol: str | None = None,
                     headers: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        """Accept, answering the bearer subprotocol when the client offered it (a browser insists on it)."""
        await super().accept(subprotocol or self.scope["request"].subprotocol, headers)
        self.accepted = True


class JobConsumer(ApiSocketConsumer):
    """/ws/jobs/{id}/: one job's `job.progress` and `job.finished` messages, starting with its current state.

    The base of every socket that follows jobs (the agents app's too): subclasses `follow` groups and, for the
    polling fallback, say what is new with `poll`."""

    poller = None
    seen: dict

    def watched_jobs(self) -> QuerySet[Job]:
        """The jobs this socket reports on, for the polling fallback."""
        return Job.objects.filter(pk=self.job_id)

    async def follow(self, group: str) -> None:
        """Join the group of events; without a shared channel layer, poll the tables instead."""
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)
        if self.poller is None and isinstance(self.channel_layer, InMemoryChannelLayer):
            self.poller = asyncio.create_task(self._poll())

    async def unfollow(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups.remove(group)

    async def poll(self) -> list[dict[str, Any]]:
        """The messages due since the last poll (without a shared channel layer): the watched jobs' new states."""
        return await _events_since(self.watched_jobs(), self.seen)

    async def _poll(self):
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            for event in await self.poll():
                await self.send_json(event)

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()

    async def connect(self) -> None:
        await self.accept()
        request = self.scope["request"]
        refusal = await enter_socket(request)
        job = None if refusal else await _visible_job(request, self.scope["url_route"]["kwargs"]["job_id"])
        if refusal or job is None:
            await self.close(code=refusal or NOT_FOUND)
            return
        await self.start_following(job)

    async def start_following(self, job: Job) -> None:
        self.job_id = job.pk
        snapshot = events.job_event(job)
        self.seen = {job.pk: snapshot}
        await self.follow(events.job_group(job.pk))
        await self.send_json(snapshot)

    async def job_event(self, message: dict[str, Any]) -> None:
        """A job's new state, unless this socket already sent a newer one (read from the table meanwhile)."""
        event = message["event"]
        if not events.is_older(event, self.seen.get(event["job_id"])):
            self.seen[event["job_id"]] = event
            await self.send_json(event)


class JobsConsumer(JobConsumer):
    """/ws/jobs/: the messages of every job the caller may see in the active tenant (their own jobs)."""

    async def connect(self) -> None:
        request = self.scope["request"]
        refusal = await enter_socket(request)
        if refusal:
            await self.accept()
            await self.close(code=refusal)
            return
        self.tenant_id, self.user_id, self.connected_at = request.tenant.pk, request.user.pk, timezone.now()
        self.seen = {}
        await _events_since(self.watched_jobs(), self.seen)
        await self.follow(events.owner_group(self.tenant_id, self.user_id))
        # Open only once subscribed: this socket sends no first message that would prove it, and a client that
        # starts a job as soon as the socket opens must not miss the job's first events.
        await self.accept()

    def watched_jobs(self) -> QuerySet[Job]:
        return Job.objects.filter(Q(status__in=Job.ACTIVE) | Q(finished_at__gte=self.connected_at),
                                  tenant_id=self.tenant_id, created_by_id=self.user_id)


class OperatorJobConsumer(JobConsumer):
    """/ws/admin/jobs/{id}/: any job, for staff signed in to the Django admin (the console's progress bar)."""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["request"].user
        if not (user.is_authenticated and user.is_staff and self.scope["request"].auth is None):
            await self.close(code=NOT_AUTHENTICATED)
            return
        job = await database_sync_to_async(Job.objects.filter(pk=self.scope["url_route"]["kwargs"]["job_id"]).first)()
        if job is None:
            await self.close(code=NOT_FOUND)
            return
        await self.start_following(job)
