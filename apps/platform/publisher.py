"""Sending channel-layer messages from synchronous code (a worker, a request) without waiting for them.

`send_soon({group: message, ...})` hands the messages to one event loop per process, kept running on a thread of
its own, and returns at once; they go out in the order they were handed over, after this process's earlier ones,
and `flush()` waits until all of them are out. A loop kept for the process keeps the Redis layer's connection pool,
which is per loop: `async_to_sync` from sync code builds a fresh loop, and new connections, for every call, which
cost more than the sends themselves. The job engine's progress messages and the event relay both send this way.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

#: Seconds a send may wait for the channel layer before it is given up (and logged).
PUBLISH_TIMEOUT = 5

logger = logging.getLogger("tessera.publisher")

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()
#: The send of this process's latest messages; the next one goes after it.
_last: concurrent.futures.Future | None = None


def send_soon(messages: dict[str, dict[str, Any]], *, what: str) -> None:
    """Send each group (the key) its message, without waiting, in order after this process's earlier messages. A
    channel layer outage is logged, naming `what` was sent; the caller carries on.

    The in-memory layer of the embedded default lives on the server's own loop, so there the send is made at once.
    """
    global _last
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        try:
            async_to_sync(_send)(layer, messages)
        except Exception:
            logger.exception("Could not publish %s to the channel layer", what)
        return
    with _loop_lock:
        loop = _publisher_loop()  # first: in a forked worker it forgets the parent's sends
        _last = asyncio.run_coroutine_threadsafe(_send_after(_last, layer, messages, what), loop)


def flush() -> None:
    """Wait (PUBLISH_TIMEOUT at most) until this process's messages are sent."""
    last = _last
    if last is not None:
        try:
            last.result(PUBLISH_TIMEOUT)
        except Exception:
            logger.exception("The channel layer did not take the messages in time")


async def _send_after(previous, layer, messages: dict[str, dict], what: str) -> None:
    if previous is not None:
        await asyncio.wrap_future(previous)  # never raises: each send reports its own failure
    try:
        await asyncio.wait_for(_send(layer, messages), PUBLISH_TIMEOUT)
    except Exception:
        logger.exception("Could not publish %s to the channel layer", what)


async def _send(layer, messages: dict[str, dict]) -> None:
    await asyncio.gather(*(layer.group_send(group, message) for group, message in messages.items()))


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """The process's loop, started on first use; a forked worker starts its own (its parent's thread is gone)."""
    global _loop, _loop_pid, _last
    if _loop is None or _loop_pid != os.getpid():
        _loop, _loop_pid, _last = asyncio.new_event_loop(), os.getpid(), None
        threading.Thread(target=_loop.run_forever, name="channel-layer-publisher", daemon=True).start()
    return _loop
