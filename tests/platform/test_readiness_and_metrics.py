"""Operations endpoints: readiness against the real dependencies, and the protected Prometheus metrics."""
import time

import pytest
from django.conf import settings as django_settings

from apps.accounts.services import token_pair_issue
from apps.platform.metrics import FLUSH_SECONDS
from apps.api.testing import clear_cache
from tests.servers import TcpRelay
from tests.workers import wait_for

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "scrape-token-for-tests-0123456789"
needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


def test_readiness_is_200_listing_every_check_when_all_dependencies_answer(anon_client):
    response = anon_client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok", "queue": "ok"}


def test_readiness_is_503_naming_the_cache_when_it_is_unreachable(settings, anon_client):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}

    response = anon_client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert list(response.json()["error"]["details"]) == ["cache"]


def poll_readiness(server, expected_status: int, seconds: float = 20) -> tuple[int, bytes]:
    deadline = time.monotonic() + seconds
    while True:
        status, _, body = server.request("GET", "/health/ready")
        if status == expected_status or time.monotonic() > deadline:
            return status, body
        time.sleep(0.3)


@needs_redis
def test_readiness_follows_postgresql_and_redis_going_away_and_coming_back(start_server):
    database_relay, redis_relay = TcpRelay(5432), TcpRelay(6379)
    from django.db import connection

    name = connection.settings_dict["NAME"]
    server = start_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{database_relay.port}/{name}",
                          REDIS_URL=f"redis://127.0.0.1:{redis_relay.port}/9", DB_POOL_TIMEOUT="2")
    try:
        assert poll_readiness(server, 200)[0] == 200

        database_relay.cut()
        status, body = poll_readiness(server, 503)
        assert (status, b"database" in body) == (503, True)
        database_relay.restore()
        assert poll_readiness(server, 200)[0] == 200

        redis_relay.cut()
        status, body = poll_readiness(server, 503)
        assert (status, b"cache" in body) == (503, True)
        redis_relay.restore()
        assert poll_readiness(server, 200)[0] == 200
    finally:
        database_relay.close()
        redis_relay.close()


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


@pytest.mark.parametrize("client_name, expected", [
    ("anon_client", 401), ("user_client", 403), ("viewer_client", 403), ("admin_client", 200)])
def test_metrics_are_for_platform_admins(request, metrics_token, client_name, expected):
    client = request.getfixturevalue(client_name)

    response = client.get("/metrics")

    assert response.status_code == expected


def test_a_scraper_reads_metrics_with_the_configured_token(metrics_token, anon_client):
    response = anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_a_wrong_metrics_token_is_refused(metrics_token, anon_client):
    response = anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_without_a_configured_token_no_bearer_value_opens_metrics(anon_client):
    response = anon_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 401


def test_metrics_count_requests_by_route_and_status_with_latency_histograms(metrics_token, user_client, anon_client):
    user_client.get("/api/v1/tasks/")
    user_client.get("/api/v1/tasks/999999/")

    text = anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode()

    assert 'tessera_http_requests_total{method="GET",route="tasks-list",status="200"} 1.0' in text
    assert 'tessera_http_requests_total{method="GET",route="tasks-detail",status="404"} 1.0' in text
    assert 'tessera_http_request_duration_seconds_count{method="GET",route="tasks-list"} 1.0' in text
    assert 'tessera_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="tasks-list"} 1.0' in text


@needs_redis
def test_metrics_add_up_across_server_processes(start_server, admin_user):
    environment = {"REDIS_URL": django_settings.REDIS_URL, "METRICS_TOKEN": METRICS_TOKEN}
    first, second = start_server(**environment), start_server(**environment)
    time.sleep(2 * FLUSH_SECONDS)  # the servers' start-up probes of /health reach Redis before the reset
    clear_cache()
    for server in (first, second, second):
        server.request("GET", "/health")

    def scraped():  # each server adds its counts to Redis every FLUSH_SECONDS
        _, _, body = first.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        return body.decode() if 'route="health",status="200"} 3.0' in body.decode() else None

    body = wait_for(scraped, timeout=10, what="both servers' counts in /metrics")

    assert 'tessera_http_requests_total{method="GET",route="health",status="200"} 3.0' in body


def test_a_platform_admin_token_reads_metrics_too(admin_user, anon_client):
    token = token_pair_issue(admin_user)["access"]

    response = anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200


def test_metrics_carry_job_and_migration_gauges(metrics_token, anon_client, user, tenant):
    from apps.jobs.models import Job

    Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.FAILED)

    text = anon_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode()

    assert 'tessera_jobs{status="failed",type="jobs.probe"} 1.0' in text
    assert "tessera_jobs_oldest_queued_seconds 0.0" in text
    assert 'tessera_migrations{status="running"} 0.0' in text
