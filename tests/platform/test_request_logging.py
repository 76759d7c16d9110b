"""Structured logs: one JSON line per request with its id, status, timing, user, tenant and client address."""
import io
import json
import logging
import sys

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from apps.platform.request_log import JsonFormatter, RequestLogMiddleware
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured console handler (LOGGING in settings) writes, parsed line by line."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    # Swapped back to what it was, which is None (the process's stderr at each write), never to the stderr of this
    # moment: that is pytest's capture of this test, closed once the test ends.
    previous, handler.stream = handler.stream, stream

    def lines():
        handler.flush()  # written by a thread of its own (request_log.BackgroundStreamHandler): wait for it
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    handler.stream = previous


def request_lines(lines) -> list[dict]:
    return [line for line in lines if line["logger"] == "tessera.requests"]


def test_each_request_writes_one_json_line_with_every_field(log_lines, user_client, user, tenant):
    user_client.get("/api/v1/tasks/?search=milk", HTTP_X_REQUEST_ID="req-42")

    [line] = request_lines(log_lines())
    assert line["request_id"] == "req-42"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/tasks/", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert (line["user_id"], line["tenant_id"], line["client_ip"]) == (user.id, tenant.id, "127.0.0.1")
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_the_query_string_is_not_logged_because_clients_put_tokens_there(log_lines, anon_client):
    anon_client.get("/health?token=eyJ-secret-access-token")

    [line] = request_lines(log_lines())
    assert line["path"] == "/health"
    assert "eyJ-secret" not in json.dumps(log_lines())


def test_an_anonymous_request_has_no_user_or_tenant(log_lines, anon_client):
    anon_client.get("/api/v1/tasks/")

    [line] = request_lines(log_lines())
    assert (line["status"], line["user_id"], line["tenant_id"]) == (401, None, None)


def test_a_session_user_is_logged_for_admin_pages(log_lines, admin_user, client):
    client.force_login(admin_user)

    client.get("/admin/")

    assert request_lines(log_lines())[-1]["user_id"] == admin_user.id


def test_every_line_written_during_a_request_carries_its_request_id(log_lines, anon_client, user):
    anon_client.post("/api/v1/auth/token", {"email": user.email, "password": "wrong-password-1"},
                     HTTP_X_REQUEST_ID="trace-me")

    lines = log_lines()
    audit = [line for line in lines if line["logger"] == "tessera.audit"]
    assert audit and all(line["request_id"] == "trace-me" for line in audit)
    assert request_lines(lines)[0]["request_id"] == "trace-me"


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(log_lines, anon_client):
    anon_client.get("/health", HTTP_X_FORWARDED_FOR="198.51.100.66")

    assert request_lines(log_lines())[0]["client_ip"] == "127.0.0.1"


def test_behind_a_trusted_proxy_the_forwarded_client_is_logged_and_audited(settings, log_lines, anon_client, user):
    settings.TRUSTED_PROXY_COUNT = 1

    anon_client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD},
                     HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.66")

    lines = log_lines()
    assert request_lines(lines)[0]["client_ip"] == "198.51.100.66"
    assert [line["client_ip"] for line in lines if line["logger"] == "tessera.audit"] == ["198.51.100.66"]


def test_server_errors_are_logged_at_error_level(caplog):
    middleware = RequestLogMiddleware(lambda request: HttpResponse(status=503))

    with caplog.at_level(logging.INFO, logger="tessera.requests"):
        middleware(RequestFactory().get("/health/ready"))

    assert caplog.records[-1].levelname == "ERROR"
    assert caplog.records[-1].status == 503


def test_the_formatter_keeps_a_traceback_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("tessera.test").makeRecord(
            "tessera.test", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=sys.exc_info(),
            extra={"request": object(), "job_id": 7})

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed here" and entry["job_id"] == 7
    assert "ValueError: boom" in entry["exception"]
    assert "request" not in entry
