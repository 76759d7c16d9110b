"""A forged `X-Forwarded-For` never moves a client, through the server exactly as the project runs it.

The test client cannot show this: the address is rewritten (or not) by the server before Django sees the
request, so these tests speak HTTP to a real server process (tests/servers.py) from 127.0.0.1, each request
claiming another address.
"""
import ipaddress
import json
import random
import re

import pytest
from django.conf import settings

from apps.accounts.models import AuditLog
from tests.servers import ROOT

ANONYMOUS_LIMIT = 100  # TESSERA_API["ANON_THROTTLE"] = "100/m"
SIGN_IN_LIMIT_PER_ADDRESS = 50  # TESSERA_ACCOUNTS["LOGIN_RATE_PER_IP"] = "50/h"
#: Where the project starts a server; each must go through config/serve/, whose options the tests below prove.
SERVING_COMMANDS = ["Makefile", "README.md", "Procfile", "tests/servers.py", "tests/test_readme.py", "bench/api.py",
                    "bench/jobs.py", "bench/race.py", "config/serve/production.py"]
#: A server started on one of the project's apps directly, without config/serve/ and its options.
BARE_SERVER = re.compile(r"""\b(?:uvicorn|granian|gunicorn|daphne|hypercorn)["', \t]+(?:[-\w]+["', \t]+)*\w+\.[aw]sgi\b""")


def made_up_address() -> str:
    return str(ipaddress.IPv4Address(random.randrange(1 << 24, 223 << 24)))


@pytest.fixture(params=["config.serve", "config.serve.wsgi"])
def server(request, start_server):
    """One server process counting in the tests' Redis, with the embedded default's trust: no proxy. Each way the
    project serves HTTP: uvicorn (`make run`, and WebSockets behind `make serve`) and granian (`make serve`)."""
    return start_server(module=request.param, REDIS_URL=settings.REDIS_URL, TRUSTED_PROXY_COUNT="0")


def sign_in(server, email: str, forwarded_for: str) -> int:
    body = json.dumps({"email": email, "password": "not-the-password"}).encode()
    status, _, _ = server.request("POST", "/api/v1/auth/token", body=body, headers={
        "Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    return status


def until_throttled(attempt, limit: int) -> list[int]:
    """Statuses of `attempt(n)` up to the first 429. Limits count in fixed windows, and one may end during the
    run, so up to twice the limit is tried; with a forged header moving the client, no 429 ever came."""
    statuses = []
    for number in range(2 * limit + 1):
        statuses.append(attempt(number))
        if statuses[-1] == 429:
            break
    return statuses


def test_anonymous_requests_claiming_other_addresses_share_one_rate_limit_bucket(server):
    statuses = until_throttled(
        lambda _: server.request("GET", "/api/v1/auth/me", headers={"X-Forwarded-For": made_up_address()})[0],
        ANONYMOUS_LIMIT)

    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {401}


def test_sign_ins_claiming_other_addresses_reach_the_per_address_limit(server):
    # A new email each time, so only the per-address limit can stop them.
    statuses = until_throttled(lambda number: sign_in(server, f"guess-{number}@example.com", made_up_address()),
                               SIGN_IN_LIMIT_PER_ADDRESS)

    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {401}


def test_the_audit_log_records_the_connecting_address_not_the_claimed_one(server):
    for attempt in range(5):
        sign_in(server, f"guess-{attempt}@example.com", made_up_address())

    addresses = set(AuditLog.objects.filter(event=AuditLog.Event.LOGIN_FAILED).values_list("ip", flat=True))

    assert addresses == {"127.0.0.1"}


def test_behind_one_trusted_proxy_the_address_it_appended_is_the_client(start_server):
    server = start_server(REDIS_URL=settings.REDIS_URL, TRUSTED_PROXY_COUNT="1")

    sign_in(server, "guess@example.com", "6.6.6.6, 203.0.113.7")  # the client forged the first entry

    assert list(AuditLog.objects.values_list("ip", flat=True)) == ["203.0.113.7"]


@pytest.mark.parametrize("path", SERVING_COMMANDS)
def test_every_serving_command_the_project_ships_runs_config_serve(path):
    text = (ROOT / path).read_text()

    assert "config.serve" in text
    assert not BARE_SERVER.search(text)
