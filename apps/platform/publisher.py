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

#: The message type of several messages for one group sent as one (`messages`, in order): consumers unpack it.
BATCH = "publisher.batch"

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_lock = threading.Lock()
#: Messages handed over and not yet given to the channel layer, by group, in order; and what they were, for the log.
_pending: dict[str, list[dict[str, Any]]] = {}
_pending_what: list[str] = []
#: The drain sending them: it runs until nothing is pending, so it also sends what is handed over meanwhile.
_drain: concurrent.futures.Future | None = None
_draining = False


def send_soon(messages: dict[str, dict[str, Any]], *, what: str) -> None:
    """Send each group (the key) its message, without waiting, in order after this process's earlier messages. A
    channel layer outage is logged, naming `what` was sent; the caller carries on.

    Messages handed over while a send is under way go together when it ends, each group's as one message (BATCH)
    when there are several: a worker reporting faster than the layer takes the reports pays one send per group per
    round trip rather than one per report. The in-memory layer of the embedded default lives on the server's own
    loop, so there the send is made at once.
    """
    global _drain, _draining
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        try:
            async_to_sync(_send)(layer, {group: [message] for group, message in messages.items()})
        except Exception:
            logger.exception("Could not publish %s to the channel layer", what)
        return
    with _lock:
        loop = _publisher_loop()  # first: in a forked worker it forgets the parent's sends
        for group, message in messages.items():
            _pending.setdefault(group, []).append(message)
        _pending_what.append(what)
        if not _draining:
            _draining = True
            _drain = asyncio.run_coroutine_threadsafe(_drain_pending(layer), loop)


def flush() -> None:
    """Wait (PUBLISH_TIMEOUT at most) until this process's messages are sent."""
    drain = _drain
    if drain is not None:
        try:
            drain.result(PUBLISH_TIMEOUT)
        except Exception:
            logger.exception("The channel layer did not take the messages in time")


async def _drain_pending(layer) -> None:
    global _draining
    while True:
        with _lock:
            if not _pending:
                _draining = False
                return
            batches, what = dict(_pending), ", ".join(_pending_what)
            _pending.clear()
            _pending_what.clear()
        try:
            await asyncio.wait_for(_send(layer, batches), PUBLISH_TIMEOUT)
        except Exception:
            logger.exception("Could not publish %s to the channel layer", what)


async def _send(layer, batches: dict[str, list[dict[str, Any]]]) -> None:
    await asyncio.gather(*(layer.group_send(group, messages[0] if len(messages) == 1 else
                                            {"type": BATCH, "messages": messages})
                           for group, messages in batches.items()))


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """The process's loop, started on first use; a forked worker starts its own (its parent's thread is gone) and
    forgets what its parent had pending."""
    global _loop, _loop_pid, _drain, _draining
    if _loop is None or _loop_pid != os.getpid():
        _loop, _loop_pid, _drain, _draining = asyncio.new_event_loop(), os.getpid(), None, False
        _pending.clear()
        _pending_what.clear()
        threading.Thread(target=_loop.run_forever, name="channel-layer-publisher", daemon=True).start()
    return _loop
