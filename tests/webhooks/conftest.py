"""A local webhook receiver (a real HTTP server on 127.0.0.1), and the settings that let deliveries reach it.

The worker cluster is started with the same allowance (tests/workers.py: WEBHOOK_ALLOWED_NETWORKS) and with
WEBHOOK_DISABLE_AFTER_FAILURES=3, which `DISABLE_AFTER` mirrors here.
"""
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.webhooks.models import WebhookDelivery
from tests.workers import wait_for

DISABLE_AFTER = 3


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    #: Every header name as sent (lower case), repeats included: `headers` keeps one value per name.
    header_names: list = field(default_factory=list)


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (status, body), then 200, after `pause` seconds (a slow
    receiver); keeps what it received, as it arrives."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    pause: float = 0

    def answer_with(self, *answers: tuple[int, bytes]) -> None:
        self.answers.extend(answers)

    def nothing_for(self, *, seconds: float) -> bool:
        """Whether nothing more arrives within `seconds`."""
        before = len(self.received)
        time.sleep(seconds)
        return len(self.received) == before


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                           [name.lower() for name in self.headers.keys()]))
            status, reply = state.answers.popleft() if state.answers else (200, b"ok")
            time.sleep(state.pause)
            self.send_response(status)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": ["127.0.0.0/8"], "DISABLE_AFTER_FAILURES": DISABLE_AFTER}


def finished(delivery_id: int, *, timeout: float = 30) -> WebhookDelivery:
    """The delivery once it has succeeded or failed for good."""
    return wait_for(lambda: WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.PENDING)
                    .filter(pk=delivery_id).first(), timeout=timeout, what=f"delivery {delivery_id} to finish")


def subscribe(client, url: str, **extra) -> dict:
    response = client.post("/api/v1/webhooks/", {"name": "CRM", "url": url, "events": ["tasks.*"], **extra})
    assert response.status_code == 201, response.json()
    return response.json()
