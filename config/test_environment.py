"""pytest plugin loaded before Django starts (`-p config.test_environment`): the environment tests run in.

Tests use the real PostgreSQL and Redis of this machine whenever they answer on their standard ports
(CI sets DATABASE_URL and REDIS_URL explicitly and TESSERA_REQUIRE_SERVICES=1, so a missing service
fails the run instead of quietly falling back to SQLite and local memory).

Each run (and each pytest-xdist process of a run) is isolated from any other on the same services: its test
database is `test_tessera_<run>` and every key it (and the servers and workers it starts, which inherit the
environment) keeps in Redis starts with `tessera-test-<run>` (cache, metrics, channel layer, the django-q2 queue
`django_q:tessera-test-<run>:*`). `<run>` is the pid and a random suffix. TEST_DATABASE_NAME and CACHE_KEY_PREFIX, when set, win.
"""
import os
import secrets
import socket
from pathlib import Path

import pytest

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
LOCAL_REDIS = "redis://127.0.0.1:6379/1"
CHROMIUM = Path("/usr/bin/chromium")

#: What runs only with each real service, so the header can say what a missing one skips.
SKIPPED_WITHOUT = {
    "PostgreSQL": "the worker-cluster, server-process and browser tests, and the PostgreSQL migration adapter's",
    "Redis": "the worker-cluster and browser tests, and the shared rate-limit, metrics and readiness tests",
    "MariaDB": "the MySQL/MariaDB migration adapter's tests",
    "Chromium": "the watch page's browser tests (tests/jobs/test_watch_page_e2e.py)",
}


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


#: This run's name: the pid of the process that started it and a random suffix. pytest-xdist's processes inherit it.
RUN = os.environ.setdefault("TESSERA_TEST_RUN", f"{os.getpid()}_{secrets.token_hex(2)}")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-hs256-signing")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("FAST_PASSWORD_HASHER", "true")
OWN_REDIS_PREFIX = "CACHE_KEY_PREFIX" not in os.environ
os.environ.setdefault("CACHE_KEY_PREFIX", f"tessera-test-{RUN}")
os.environ.setdefault("TEST_DATABASE_NAME", f"test_tessera_{RUN}")
# Under pytest-xdist (`make test` runs TEST_PROCESSES processes) each process is a run of its own: pytest-django gives
# it its own test database (`_gw0`, `_gw1`, ...), and this its own keys, hence its own queue, worker cluster and
# channel groups. The processes inherit the first one's environment, so the suffix is added, not defaulted.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["CACHE_KEY_PREFIX"] += f"-{os.environ['PYTEST_XDIST_WORKER']}"
# A second resource, declared only for tests, proves the generator works beyond the shipped apps.
os.environ.setdefault("EXTRA_INSTALLED_APPS", "tests.testapp")
if "DATABASE_URL" not in os.environ and _answers(5432):
    os.environ["DATABASE_URL"] = LOCAL_POSTGRES
if "REDIS_URL" not in os.environ and _answers(6379):
    os.environ["REDIS_URL"] = LOCAL_REDIS


def services_found() -> dict[str, bool]:
    """Which real services this run uses (MariaDB and Chromium are looked for where the tests look)."""
    return {
        "PostgreSQL": os.environ.get("DATABASE_URL", "").startswith("postgres"),
        "Redis": bool(os.environ.get("REDIS_URL")),
        "MariaDB": _answers(3306),
        "Chromium": os.access(CHROMIUM, os.X_OK),
    }


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("TESSERA_REQUIRE_SERVICES"):
        missing = [name for name, found in services_found().items() if not found and name != "Chromium"]
        if missing:
            raise pytest.UsageError(f"TESSERA_REQUIRE_SERVICES is set but {', '.join(missing)} is not available.")


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = os.environ.get("DATABASE_URL", "").split("@")[-1] or "SQLite (embedded default)"
    redis = os.environ.get("REDIS_URL", "").split("@")[-1] or "none: local-memory cache and channel layer"
    found = services_found()
    lines = [f"tessera database: {database}, test database {os.environ['TEST_DATABASE_NAME']}",
             f"tessera redis: {redis}, keys under {os.environ['CACHE_KEY_PREFIX']}",
             "tessera services found: " + (", ".join(name for name, ok in found.items() if ok) or "none")]
    lines += [f"tessera skips without {name}: {SKIPPED_WITHOUT[name]}" for name, ok in found.items() if not ok]
    return lines


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the keys this run left in Redis (queue, channel groups, counters), when their prefix was its own."""
    if not (OWN_REDIS_PREFIX and os.environ.get("REDIS_URL")):
        return
    import redis

    try:
        client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2)
        keys = list(client.scan_iter(match=f"*{os.environ['CACHE_KEY_PREFIX']}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a Redis that went away has nothing left to clean
