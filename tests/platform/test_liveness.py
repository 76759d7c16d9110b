"""GET /health/live: the liveness probe answers while the process can answer anything, whatever its dependencies
do, unlike /health/ready (test_readiness_and_metrics.py), which checks them."""
import pytest
from django.conf import settings as django_settings

from tests.servers import TcpRelay
from tests.workers import wait_for

pytestmark = pytest.mark.django_db

needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


def test_liveness_is_200_alive_without_credentials(anon_client):
    response = anon_client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_liveness_asks_nothing_of_the_database(anon_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert anon_client.get("/health/live").status_code == 200


def test_liveness_stays_200_while_readiness_reports_the_cache_down(settings, anon_client):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}

    assert anon_client.get("/health/ready").status_code == 503
    assert anon_client.get("/health/live").status_code == 200


def test_the_index_links_the_probes(anon_client):
    links = anon_client.get("/").json()["links"]

    assert (links["liveness"], links["readiness"]) == ("/health/live", "/health/ready")


@needs_redis
def test_a_served_process_stays_alive_while_its_database_is_gone(start_server):
    from django.db import connection

    relay = TcpRelay(5432)
    name = connection.settings_dict["NAME"]
    server = start_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{relay.port}/{name}", DB_POOL_TIMEOUT="2")
    try:
        assert wait_for(lambda: server.request("GET", "/health/ready")[0] == 200 or None, timeout=20)
        relay.cut()

        assert wait_for(lambda: server.request("GET", "/health/ready")[0] == 503 or None, timeout=20)
        status, _, body = server.request("GET", "/health/live")
        assert (status, body) == (200, b'{"status":"alive"}')
    finally:
        relay.close()
