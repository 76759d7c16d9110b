"""Webhooks on the embedded default `make run` serves (a SQLite file, the ORM broker, local memory): a change event
is delivered, signed, retried after a failed attempt, and its delivery listed with every attempt, the way the suite
checks it on PostgreSQL.

The suite's own database is PostgreSQL, where dispatch and attempt recording take one statement each; this runs
the app as `make run` does (tests/servers.py: demo_server), so the other path, the one SQLite takes, is the one
tested.
"""
import json
import urllib.request

import pytest
from standardwebhooks.webhooks import Webhook

from tests.workers import wait_for


@pytest.fixture
def demo_environment():
    """Deliveries may go to the local receiver."""
    return {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}


def call(url: str, method: str, path: str, body: dict | None = None, *, token: str | None = None) -> dict:
    """The JSON answer of a request as the demo tenant's owner (any error status fails the test)."""
    headers = {"Content-Type": "application/json", "X-Tenant-ID": "demo",
               **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(f"{url}{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def test_a_task_change_is_delivered_signed_after_a_retry_and_its_attempts_listed(demo_server, receiver):
    url, _, _ = demo_server
    token = call(url, "POST", "/api/v1/auth/token",
                 {"email": "admin@tessera.local", "password": "demo-admin-password"})["access"]
    subscription = call(url, "POST", "/api/v1/webhooks/", {
        "name": "CRM", "url": receiver.url, "events": ["tasks.*"],
        "retry_policy": {"max_retries": 1, "retry_delay": 0.2}}, token=token)
    receiver.answer_with((503, b"busy"))

    task = call(url, "POST", "/api/v1/tasks/", {"title": "Ship it"}, token=token)

    [delivery] = wait_for(lambda: call(url, "GET", "/api/v1/webhooks/deliveries/?status=succeeded",
                                       token=token)["results"], timeout=15, what="the delivery to succeed")
    failed, succeeded = receiver.received
    assert failed.body == succeeded.body and failed.headers["webhook-id"] == succeeded.headers["webhook-id"]
    verified = Webhook(subscription["secret"]).verify(succeeded.body, succeeded.headers)
    assert (verified["type"], verified["data"]["id"]) == ("tasks.created", task["id"])
    assert (delivery["event_id"], delivery["attempt_count"]) == (succeeded.headers["webhook-id"], 2)
    assert [(attempt["number"], attempt["outcome"], attempt["status_code"], attempt["will_retry_in"])
            for attempt in delivery["attempts"]] == [(1, "http_error", 503, 0.2), (2, "succeeded", 200, None)]
