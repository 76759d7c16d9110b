"""WebSockets of the agents app: thin consumers on the job engine's (apps/jobs/consumers.py), with its sign-in
(ticket, bearer subprotocol, JWT, API key), close codes and channel layer; the agent is found through the agents
resource's scoping, as GET /agents/{id}/ finds it, so another user's or tenant's agent closes with 4404.

/ws/agents/{id}/: the agent as it is, then a message at each change of its status or its run's progress:
`agent.progress` while pending or running, `agent.finished` once the run ended (agent_id, status, job_id, progress,
step, message, error). /ws/logs/{id}/: `log.line` messages (id, job_id, timestamp, level, step, message, progress),
the run's latest 100 lines first, then each line as it is written. Both follow the agent's next run when one
starts while they are connected.
"""
from typing import Any

from channels.db import database_sync_to_async

from apps.jobs import events as job_events
from apps.jobs.consumers import NOT_FOUND, JobConsumer, enter_socket

from . import events, selectors
from .models import Agent


class AgentRunConsumer(JobConsumer):
    """Follows one agent's group (its status, the start of each run) and its current run's group (`run_group`)."""

    job_id: int | None = None

    def run_group(self, job_id: int) -> str:
        raise NotImplementedError

    async def connect(self) -> None:
        await self.accept()
        request = self.scope["request"]
        refusal = await enter_socket(request, scope="agents:read")
        agent = None if refusal else await database_sync_to_async(selectors.visible_agent)(
            request, self.scope["url_route"]["kwargs"]["agent_id"])
        if refusal or agent is None:
            await self.close(code=refusal or NOT_FOUND)
            return
        self.agent_id = agent.pk
        await self.follow(events.agent_group(agent.pk))
        await self.catch_up()

    async def catch_up(self) -> None:
        """Follow the agent's current run (joining its group before reading, so nothing falls between), then
        send what the client has not seen."""
        agent = await database_sync_to_async(selectors.agent_with_run)(self.agent_id)
        while agent is not None and agent.job_id != self.job_id:
            if self.job_id is not None:
                await self.unfollow(self.run_group(self.job_id))
            self.job_id = agent.job_id
            self.run_changed()
            if self.job_id is not None:
                await self.follow(self.run_group(self.job_id))
            agent = await database_sync_to_async(selectors.agent_with_run)(self.agent_id)
        if agent is None:  # deleted
            await self.close(code=NOT_FOUND)
            return
        await self.send_current(agent)

    def run_changed(self) -> None:
        """The socket now follows another run."""

    async def send_current(self, agent: Agent) -> None:
        raise NotImplementedError

    async def poll(self) -> list[dict[str, Any]]:
        await self.catch_up()
        return []

    async def agent_event(self, message: dict[str, Any]) -> None:
        """The agent's status changed, a run started or the agent was deleted: read it again."""
        await self.catch_up()


class AgentConsumer(AgentRunConsumer):
    """/ws/agents/{id}/: the agent's status and its run's progress."""

    last: dict[str, Any] | None = None

    def run_group(self, job_id: int) -> str:
        return job_events.job_group(job_id)

    #: The last state of the agent's run this socket sent (its job's event), to leave out older ones still on their way.
    last_run: dict[str, Any] | None = None

    async def send_current(self, agent: Agent) -> None:
        if agent.job is not None:
            self.last_run = job_events.job_event(agent.job)
        await self.send_state(events.agent_snapshot(agent))

    async def send_state(self, state: dict[str, Any]) -> None:
        if state != self.last:
            self.last = state
            await self.send_json(state)

    async def job_event(self, message: dict[str, Any]) -> None:
        run = message["event"]
        if run["job_id"] == self.job_id and self.last is not None and not job_events.is_older(run, self.last_run):
            self.last_run = run
            change = {key: self.last[key] for key in events.CHANGE_FIELDS}
            await self.send_state(events.agent_message(change, run))


class LogConsumer(AgentRunConsumer):
    """/ws/logs/{id}/: the log lines of the agent's run as they are written."""

    last_line = 0

    def run_group(self, job_id: int) -> str:
        return job_events.log_group(job_id)

    def run_changed(self) -> None:
        self.last_line = 0

    async def send_current(self, agent: Agent) -> None:
        if agent.job_id is None:
            return
        for line in await database_sync_to_async(selectors.run_lines)(agent.job_id, after=self.last_line):
            await self.send_line(job_events.log_event(line))

    async def send_line(self, line: dict[str, Any]) -> None:
        if line["id"] > self.last_line:
            self.last_line = line["id"]
            await self.send_json(line)

    async def job_event(self, message: dict[str, Any]) -> None:
        """A line the run wrote. Its worker and the API (an agent service's reports) each send their lines as they
        go, so one may arrive before an earlier line of the other: the lines between the last one sent and this one
        are read from the table first, so none is skipped and the order is the log's."""
        line = message["event"]
        if line["job_id"] != self.job_id or line["id"] <= self.last_line:
            return
        for earlier in await database_sync_to_async(selectors.run_lines)(self.job_id, after=self.last_line,
                                                                           before=line["id"]):
            await self.send_line(job_events.log_event(earlier))
        await self.send_line(line)
