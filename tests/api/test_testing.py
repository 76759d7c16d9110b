"""Test runs on one machine share PostgreSQL and Redis: each run has its own database and Redis key prefix, and
resetting the cache between tests removes only that run's keys, never another run's queue, groups or counters."""
import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from apps.platform.metrics import metrics_store, record_request
from apps.api.testing import clear_cache

from config.test_environment import RUN

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


#: Under pytest-xdist, the process's own part of the run ("gw0"): pytest-django suffixes its database with it.
PROCESS = os.environ.get("PYTEST_XDIST_WORKER")


@pytest.mark.skipif(os.environ["TEST_DATABASE_NAME"] != f"test_tessera_{RUN}", reason="TEST_DATABASE_NAME was given")
@needs_redis
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the test database is named on PostgreSQL only")
def test_each_run_and_each_of_its_processes_has_its_own_test_database_and_redis_prefix(db):
    database_suffix, prefix_suffix = (f"_{PROCESS}", f"-{PROCESS}") if PROCESS else ("", "")

    assert connection.settings_dict["NAME"] == f"test_tessera_{RUN}{database_suffix}"
    assert settings.REDIS_KEY_PREFIX == settings.CACHES["default"]["KEY_PREFIX"] == f"tessera-test-{RUN}{prefix_suffix}"
    assert settings.Q_CLUSTER["name"] == settings.REDIS_KEY_PREFIX
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] == f"{settings.REDIS_KEY_PREFIX}:asgi"


@needs_redis
def test_clearing_the_cache_keeps_another_runs_keys_and_drops_this_runs():
    other = redis.Redis.from_url(settings.REDIS_URL)
    other.set("django_q:another-run:q", "a queued task of another run")
    other.set("another-run:1:rl:counter", "7")
    cache.set("counter", 3)
    record_request(method="GET", route="health", status=200, seconds=0.01)
    try:
        clear_cache()

        assert other.get("django_q:another-run:q") == b"a queued task of another run"
        assert other.get("another-run:1:rl:counter") == b"7"
        assert cache.get("counter") is None
        assert metrics_store().read("metrics:requests") == {}
    finally:
        other.delete("django_q:another-run:q", "another-run:1:rl:counter")
