"""No line a real server logs holds a token, key, ticket or password, whichever way a client sends one.

A server runs as the project serves it, logging at INFO with uvicorn's access log switched back on (so its
lines are checked too); a scripted session signs in, uses the tokens in a header, opens WebSockets with
`?token=`, with a one-time ticket and with the bearer subprotocol, creates and uses an API key, refreshes, and
changes the password. Then the server's whole log is searched for every secret the session used.
"""
import json

import pytest
from django.conf import settings
from websockets.sync.client import connect

from apps.jobs.models import Job
from tests.conftest import PASSWORD

NEW_PASSWORD = "another-long-enough-password"


class Session:
    """HTTP calls to the server as one signed-in user, remembering every secret it handles."""

    def __init__(self, server, tenant):
        self.server, self.tenant, self.secrets = server, tenant, [PASSWORD, NEW_PASSWORD]

    def call(self, method: str, path: str, body: dict | None = None, *, expected: int = 200, **headers) -> dict:
        headers = {"Content-Type": "application/json", "X-Tenant-ID": str(self.tenant.pk), **headers}
        status, _, raw = self.server.request(method, path, body=json.dumps(body).encode() if body else None,
                                             headers=headers)
        assert status == expected, raw
        return json.loads(raw) if raw else {}

    def keep(self, secret: str) -> str:
        self.secrets.append(secret)
        return secret

    def socket(self, path: str, **options) -> dict:
        """The first message of a WebSocket on the server (it proves the socket was let in)."""
        with connect(f"ws://127.0.0.1:{self.server.port}{path}", open_timeout=10, **options) as socket:
            return json.loads(socket.recv(timeout=10))


@pytest.fixture
def server(start_server):
    return start_server(REDIS_URL=settings.REDIS_URL, options=("--log-level", "info", "--access-log"))


def test_a_scripted_session_leaves_no_secret_in_the_server_log(server, user, tenant):
    job = Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.RUNNING)
    session = Session(server, tenant)
    watch = f"/ws/jobs/{job.pk}/"

    pair = session.call("POST", "/api/v1/auth/token", {"email": user.email, "password": PASSWORD})
    access, refresh = session.keep(pair["access"]), session.keep(pair["refresh"])
    bearer = {"Authorization": f"Bearer {access}"}
    session.call("GET", "/api/v1/auth/me", **bearer)
    messages = [session.socket(f"{watch}?token={access}&tenant={tenant.pk}")]
    ticket = session.keep(session.call("POST", "/api/v1/auth/ws-ticket", expected=201, **bearer)["ticket"])
    messages.append(session.socket(f"{watch}?ticket={ticket}"))
    messages.append(session.socket(watch, subprotocols=["tessera.bearer", access]))
    key = session.keep(session.call("POST", "/api/v1/auth/api-keys/", {"name": "script", "scopes": ["jobs:read"]},
                                    expected=201, **bearer)["key"])
    session.call("GET", "/api/v1/jobs/", **{"X-API-Key": key})
    messages.append(session.socket(watch, additional_headers={"X-API-Key": key}))
    pair = session.call("POST", "/api/v1/auth/token/refresh", {"refresh": refresh})
    session.keep(pair["access"]), session.keep(pair["refresh"])
    session.call("POST", "/api/v1/auth/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                 expected=204, Authorization=f"Bearer {pair['access']}")
    server.stop()
    log = server.log()

    assert [message["job_id"] for message in messages] == [job.pk] * 4
    assert f'"WebSocket {watch}" [accepted]' in log  # uvicorn's handshake lines are there, minus their query
    assert "GET /api/v1/auth/me HTTP/1.1" in log  # and uvicorn's access line
    assert [secret for secret in session.secrets if secret in log] == []
