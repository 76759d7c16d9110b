"""pytest plugin loaded before Django starts (`-p config.test_environment`): the environment tests run in.

Tests use the real PostgreSQL and Redis of this machine whenever they answer on their standard ports
(CI sets DATABASE_URL and REDIS_URL explicitly and TESSERA_REQUIRE_SERVICES=1, so a missing service
fails the run instead of quietly falling back to SQLite and local memory).
"""
import os
import socket

import pytest

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
LOCAL_REDIS = "redis://127.0.0.1:6379/1"


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-hs256-signing")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("FAST_PASSWORD_HASHER", "true")
os.environ.setdefault("CACHE_KEY_PREFIX", "tessera-test")
# A second resource, declared only for tests, proves the generator works beyond the shipped apps.
os.environ.setdefault("EXTRA_INSTALLED_APPS", "tests.testapp")
if "DATABASE_URL" not in os.environ and _answers(5432):
    os.environ["DATABASE_URL"] = LOCAL_POSTGRES
if "REDIS_URL" not in os.environ and _answers(6379):
    os.environ["REDIS_URL"] = LOCAL_REDIS


def pytest_configure(config):
    if os.environ.get("TESSERA_REQUIRE_SERVICES") and not (
        os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")
    ):
        raise pytest.UsageError("TESSERA_REQUIRE_SERVICES is set but PostgreSQL or Redis is not configured.")


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL", "").split("@")[-1] or "SQLite (embedded default)"
    redis = os.environ.get("REDIS_URL", "").split("@")[-1] or "none: local-memory cache and channel layer"
    return [f"tessera database: {database}", f"tessera redis: {redis}"]
