"""Messages sent from sync code (a worker's job reports, the event relay) go out in order, without the sender
waiting; those handed over while a send is under way go together, each group's as one message, on the real Redis
channel layer, and the API's sockets unpack them in order."""
import asyncio
import secrets
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.jobs import events
from apps.jobs.models import Job
from apps.platform import publisher
from tests.jobs.conftest import Socket, access_token

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the publisher's loop serves the Redis layer")


class HeldFirstSend:
    """Counts the layer's group sends, holding the first one until `release()`: what is handed over meanwhile
    waits behind it, as it does behind a slow round trip."""

    def __init__(self, layer):
        self.sends, self._group_send = [], layer.group_send
        self.holding, self._released = threading.Event(), threading.Event()

    async def group_send(self, group, message):
        self.sends.append((group, message))
        if len(self.sends) == 1:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self._released.wait, 5)
        await self._group_send(group, message)

    def release(self):
        self._released.set()


@pytest.fixture
def held_first_send(monkeypatch):
    layer = get_channel_layer()
    held = HeldFirstSend(layer)
    monkeypatch.setattr(layer, "group_send", held.group_send)
    yield held
    held.release()


def receive(channel: str, count: int) -> list[dict]:
    """`count` messages of `channel`, read on one event loop (channels_redis may hand a message to each of several
    loops reading the same channel)."""
    async def read():
        return [await get_channel_layer().receive(channel) for _ in range(count)]

    return async_to_sync(read)()


def test_messages_handed_over_during_a_send_go_as_one_message_per_group_in_order(held_first_send):
    layer = get_channel_layer()
    channel = f"tests-publisher-{secrets.token_hex(4)}"  # a plain channel: each receive reads it on its own
    for group in ("tests-publisher-a", "tests-publisher-b"):
        async_to_sync(layer.group_add)(group, channel)

    publisher.send_soon({"tests-publisher-a": {"type": "test.message", "n": 1}}, what="first")
    assert held_first_send.holding.wait(5)
    publisher.send_soon({"tests-publisher-a": {"type": "test.message", "n": 2}}, what="second")
    publisher.send_soon({"tests-publisher-a": {"type": "test.message", "n": 3},
                         "tests-publisher-b": {"type": "test.message", "n": 4}}, what="third")
    held_first_send.release()
    publisher.flush()

    received = receive(channel, 3)
    assert len(held_first_send.sends) == 3  # the first, then one per group for all that waited behind it
    assert received[0] == {"type": "test.message", "n": 1}
    assert {"type": publisher.BATCH, "messages": [{"type": "test.message", "n": 2}, {"type": "test.message", "n": 3}]} \
        in received[1:]
    assert {"type": "test.message", "n": 4} in received[1:]


@pytest.mark.usefixtures("transactional_db")
def test_a_socket_receives_the_reports_of_a_batch_one_by_one_in_order(user, tenant, held_first_send):
    job = Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.RUNNING)

    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user)) as socket:
        socket.receive()  # the job as it is
        for progress in (10, 20, 30, 40):
            job.progress = progress
            events.publish_soon(job)
            assert held_first_send.holding.wait(5)
        held_first_send.release()
        received = [socket.receive()["progress"] for _ in range(4)]

    assert received == [10, 20, 30, 40]
    assert len(held_first_send.sends) == 2 + 2  # the first report to the job's group and its owner's, then the rest
