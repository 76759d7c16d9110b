"""The guide's live progress socket, /ws/migrations/{session_id}: one migration's status as GET
/migrations/{session_id}/status answers it, first as it is, then at every change.

It authenticates and resolves the tenant like the job sockets (apps/jobs/socket_auth.py: a browser's session at
the same origin, which is how the guide's JavaScript snippet connects, or a token, ticket or API key), and finds
the migration through the resource's own scoping, so it sees exactly what the same caller sees over HTTP.

A migration moves through several jobs (its run, a scheduled start, a rollback) and its status is the run row's,
so the socket follows that row, read every half second with one indexed query, rather than one job's group.
Close codes are the job sockets': 4401 not authenticated, 4403 not a member of the tenant asked for, 4404 no such
migration for this caller.
"""
import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from apps import api
from apps.api.scoping import scope_queryset
from apps.jobs.consumers import NOT_FOUND, JobConsumer, enter_socket

from .models import MigrationRun
from .selectors import migration_status
from .serializers import MigrationStatusSerializer

POLL_INTERVAL = 0.5
SERVER_ERROR = 1011
logger = logging.getLogger(__name__)
PROGRESS, FINISHED = "migration.progress", "migration.finished"
#: Fields that change with the clock alone: a change in them only is not worth a message.
CLOCK_FIELDS = ("duration",)


def migration_event(run: MigrationRun) -> dict[str, Any]:
    """A socket message: `type`, then the fields of the status answer (session_id, status, progress,
    current_step, performance_metrics, ...), read and rendered as GET .../status reads and renders them."""
    return {"type": FINISHED if run.status in MigrationRun.FINISHED else PROGRESS,
            **MigrationStatusSerializer(migration_status(run)).data}


@database_sync_to_async
def _visible_run(request: Any, session_id: str) -> MigrationRun | None:
    resource = api.site.get_resource(MigrationRun)
    return scope_queryset(MigrationRun.objects.filter(session_id=session_id), request=request,
                          resource=resource).first()


@database_sync_to_async
def _event(run_pk: int) -> dict[str, Any] | None:
    run = MigrationRun.objects.select_related("job").filter(pk=run_pk).first()
    return None if run is None else migration_event(run)


class MigrationConsumer(JobConsumer):
    """/ws/migrations/{session_id}: the migration's status messages until the caller disconnects."""

    async def connect(self) -> None:
        await self.accept()
        request = self.scope["request"]
        refusal = await enter_socket(request, scope="migrations:read")
        run = None if refusal else await _visible_run(request, self.scope["url_route"]["kwargs"]["session_id"])
        if refusal or run is None:
            await self.close(code=refusal or NOT_FOUND)
            return
        self.poller = asyncio.create_task(self._follow(run.pk))

    async def _follow(self, run_pk: int) -> None:
        try:
            await self._send_changes(run_pk)
        except asyncio.CancelledError:
            raise
        except Exception:  # a task's error is otherwise never seen, and the socket would wait forever
            logger.exception("The progress socket of migration %s failed", run_pk)
            await self.close(code=SERVER_ERROR)

    async def _send_changes(self, run_pk: int) -> None:
        sent = None
        while True:
            event = await _event(run_pk)
            if event is None:  # deleted while watched
                await self.close(code=NOT_FOUND)
                return
            compared = {key: value for key, value in event.items() if key not in CLOCK_FIELDS}
            if compared != sent:
                sent = compared
                await self.send_json(event)
            await asyncio.sleep(POLL_INTERVAL)
