"""Fixtures of the job-engine tests: tokens, sockets, and helpers over the real worker cluster.

The cluster itself (`worker_cluster`, `workers`) and the `handed_over` guard live in tests/workers.py, shared with
the migration tests: one cluster per session, whichever folders ask for it.
"""
import asyncio
import threading
import time
from functools import cache

from channels.testing import WebsocketCommunicator

from apps.accounts.services import token_pair_issue
from apps.jobs.models import Job
from tests.workers import STALE_AFTER_SECONDS, job_in, wait_for  # noqa: F401 (the jobs tests import them from here)


def run_to_the_end(client, job_type: str, params: dict, *, timeout: float = 15) -> Job:
    """POST a job and wait for the workers to finish it; the job as it ended."""
    response = client.post("/api/v1/jobs/", {"type": job_type, "params": params}, format="json")
    assert response.status_code == 201, response.content
    return wait_for(lambda: job_in(response.json()["id"], *Job.FINISHED), timeout=timeout,
                    what=f"the {job_type} job to finish")


def access_token(user) -> str:
    return token_pair_issue(user)["access"]


@cache
def socket_loop() -> asyncio.AbstractEventLoop:
    """The one event loop every socket of the run lives on, in a thread of its own, as a server process has one.

    channels_redis shares state between all the event loops of a process: a lock per process-wide channel, which
    binds to the loop that first waits on it and outlives a cancelled receive. With a loop per socket, a socket
    closed while its last message was still being cleaned up left that lock to the next socket's loop, whose
    receive then failed ("bound to a different event loop") or waited for ever, depending on which socket test
    had run before (a shuffled run found it)."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="sockets", daemon=True).start()
    return loop


class Socket:
    """A WebSocket client on the real ASGI application (channels' WebsocketCommunicator), driven from a sync
    test: it runs on `socket_loop()`, in a thread of its own, so the test can make HTTP calls while it listens.

    The consumers accept before they decide, because a browser sees the close code only of an accepted socket;
    a refusal therefore arrives as a close with a code.
    """

    def __init__(self, path: str, *, token: str | None = None, query: str = "", headers: dict | None = None,
                 subprotocols: list[str] | None = None):
        params = "&".join(part for part in (f"token={token}" if token else "", query) if part)
        self.path = f"{path}?{params}" if params else path
        self.headers = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
        self.subprotocols = subprotocols
        #: The subprotocol the server accepted the socket with.
        self.subprotocol = None
        self._communicator = self._run(self._connect())

    async def _connect(self):
        from config.asgi import application

        communicator = WebsocketCommunicator(application, self.path, headers=self.headers,
                                             subprotocols=self.subprotocols)
        connected, self.subprotocol = await communicator.connect(timeout=5)
        assert connected
        return communicator

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, socket_loop()).result()

    def receive(self, timeout: float = 5) -> dict:
        """The next JSON message; fails the test if none arrives within `timeout` s."""
        return self._run(self._communicator.receive_json_from(timeout=timeout))

    def send(self, message: dict) -> None:
        """Send `message` as JSON."""
        self._run(self._communicator.send_json_to(message))

    def nothing_received(self, wait: float = 0.5) -> bool:
        return self._run(self._communicator.receive_nothing(timeout=wait))

    def close_code(self, timeout: float = 5) -> int | None:
        """The code the server closed the socket with (None if it sent a message instead)."""
        output = self._run(self._communicator.receive_output(timeout))
        return output.get("code") if output["type"] == "websocket.close" else None

    def messages_until_finished(self, *, timeout: float = 15) -> list[dict]:
        """Every message up to and including the first `job.finished`."""
        received = []
        deadline = time.monotonic() + timeout
        while not received or received[-1]["type"] != "job.finished":
            received.append(self.receive(timeout=max(deadline - time.monotonic(), 0.01)))
        return received

    def close(self):
        self._run(self._communicator.disconnect())


    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
