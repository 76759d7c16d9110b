"""WebSocket consumers: authenticate, check visibility with the API's own rules, join a group, forward events.

Close codes: 4401 not authenticated, 4403 not a member of the requested tenant, 4404 not your job.
Sockets are accepted and then closed with the code, so browsers see the code (a refused handshake
reaches them only as 1006).
"""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps import api
from apps.api.errors import PermissionDenied
from apps.api.scoping import scope_queryset
from apps.api.viewsets import bind_tenant_and_scopes

from . import events
from .models import Job

NOT_AUTHENTICATED, NOT_A_MEMBER, NOT_FOUND = 4401, 4403, 4404


@database_sync_to_async
def _enter(request) -> int | None:
    """Bind tenant and scopes like an HTTP request; the close code when the caller may not go on."""
    if not request.user.is_authenticated:
        return NOT_AUTHENTICATED
    try:
        bind_tenant_and_scopes(request)
    except PermissionDenied:
        return NOT_A_MEMBER
    if request.tenant is None or "jobs:read" not in request.scopes:
        return NOT_FOUND
    return None


@database_sync_to_async
def _visible_job(request, job_id: int) -> Job | None:
    """The job, if the jobs resource's scoping (the same chokepoint as GET /jobs/{id}/) shows it."""
    resource = api.site.get_resource(Job)
    return scope_queryset(Job.objects.filter(pk=job_id), request=request, resource=resource).first()


class JobConsumer(AsyncJsonWebsocketConsumer):
    """/ws/jobs/{id}/: one job's `job.progress` and `job.finished` messages, starting with its current state."""

    async def connect(self):
        await self.accept()
        request = self.scope["request"]
        refusal = await _enter(request)
        job = None if refusal else await _visible_job(request, self.scope["url_route"]["kwargs"]["job_id"])
        if refusal or job is None:
            await self.close(code=refusal or NOT_FOUND)
            return
        await self.channel_layer.group_add(events.job_group(job.pk), self.channel_name)
        self.groups.append(events.job_group(job.pk))
        await self.send_json(events.job_event(job))

    async def job_event(self, message):
        await self.send_json(message["event"])


class JobsConsumer(JobConsumer):
    """/ws/jobs/: the messages of every job the caller may see in the active tenant (their own jobs)."""

    async def connect(self):
        await self.accept()
        request = self.scope["request"]
        refusal = await _enter(request)
        if refusal:
            await self.close(code=refusal)
            return
        group = events.owner_group(request.tenant.pk, request.user.pk)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)


class OperatorJobConsumer(JobConsumer):
    """/ws/admin/jobs/{id}/: any job, for staff signed in to the Django admin (the console's progress bar)."""

    async def connect(self):
        await self.accept()
        user = self.scope["request"].user
        if not (user.is_authenticated and user.is_staff and self.scope["request"].auth is None):
            await self.close(code=NOT_AUTHENTICATED)
            return
        job = await database_sync_to_async(Job.objects.filter(pk=self.scope["url_route"]["kwargs"]["job_id"]).first)()
        if job is None:
            await self.close(code=NOT_FOUND)
            return
        await self.channel_layer.group_add(events.job_group(job.pk), self.channel_name)
        self.groups.append(events.job_group(job.pk))
        await self.send_json(events.job_event(job))
