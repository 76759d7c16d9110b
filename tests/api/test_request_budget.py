"""What one request costs once the caches are warm: SQL queries and Redis round trips, counted on the real services.

The caller's credentials, memberships and the tenant are cached in Redis (apps.accounts.auth_cache) and read in
the same pipeline as the request's rate-limit counters (apps.api.throttling.RequestRoundTrip); request metrics
and log lines leave the request path (a background flush, a log thread). So a read asks PostgreSQL only for its
rows and Redis once, whether the caller holds a token or an API key.

Round trips are counted where redis-py sends them: every command, and every pipeline, is one
`send_packed_command` on a connection, whichever client (the cache's, the metrics store's) sends it. Only the
test's own thread is counted, which is the thread the test client serves the request in.
"""
import threading

import pytest
import redis.connection
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create, api_key_revoke
from apps.accounts.testing import TenantAPIClient
from apps.tasks.models import Task
from tests.conftest import PASSWORD

# Transactional, as a server's requests are: changes commit, so the cache is cleared after commit and refills.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="counts round trips to a real Redis (REDIS_URL)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the budget is PostgreSQL's"),
]


class RoundTrips:
    """Round trips to Redis sent by this thread since the last reset."""

    def __init__(self):
        self.thread = threading.get_ident()
        self.count = 0


@pytest.fixture
def redis_round_trips(monkeypatch):
    trips = RoundTrips()
    send = redis.connection.AbstractConnection.send_packed_command

    def counted_send(connection, command, check_health=True):
        if threading.get_ident() == trips.thread:
            trips.count += 1
        return send(connection, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted_send)
    return trips


@pytest.fixture
def task(user, tenant):
    return Task.objects.create(tenant=tenant, user=user, title="Counted")


@pytest.fixture
def key_client(user, tenant):
    """An API key that reads and writes tasks."""
    key = api_key_create(user=user, name="budget", scopes=["tasks:read", "tasks:write"],
                         allowed=role_scopes(user.role))
    return TenantAPIClient(tenant=tenant).with_api_key(key.secret)


@pytest.fixture(params=["token", "api_key"])
def caller(request, user_client, key_client):
    return {"token": user_client, "api_key": key_client}[request.param]


def cost(redis_round_trips, send, *, expected_status):
    """(SQL statements, Redis round trips) of `send()`, after two warm-up calls that fill every cache."""
    for _ in range(2):
        assert send().status_code == expected_status
    redis_round_trips.count = 0
    with CaptureQueriesContext(connection) as queries:
        response = send()
    assert response.status_code == expected_status, response.content
    return [query["sql"] for query in queries], redis_round_trips.count


def row_query(statement: str) -> str:
    """"count" or "row" for a SELECT of tasks, else the statement itself (so an assertion shows it)."""
    if not (statement.startswith("SELECT ") and 'FROM "tasks_task"' in statement):
        return statement
    return "count" if statement.startswith("SELECT COUNT(*)") else "row"


def test_a_detail_read_costs_one_query_and_one_round_trip(caller, task, redis_round_trips):
    statements, round_trips = cost(redis_round_trips, lambda: caller.get(f"/api/v1/tasks/{task.pk}/"),
                                   expected_status=200)

    assert [row_query(statement) for statement in statements] == ["row"]
    assert round_trips == 1


def test_a_list_costs_its_count_and_its_page_and_one_round_trip(caller, task, redis_round_trips):
    statements, round_trips = cost(redis_round_trips, lambda: caller.get("/api/v1/tasks/"), expected_status=200)

    assert [row_query(statement) for statement in statements] == ["count", "row"]
    assert round_trips == 1


def test_a_create_costs_its_insert_its_event_and_one_round_trip(caller, redis_round_trips):
    # Tasks announce change events: the outbox row is the one statement they add, in a transaction with the row
    # (its BEGIN and COMMIT travel with the statements); the relay is handed the event after commit, off the
    # request thread (apps/events/handoff.py), so there is no round trip for it.
    statements, round_trips = cost(redis_round_trips, lambda: caller.post("/api/v1/tasks/", {"title": "New"}),
                                   expected_status=201)

    assert [statement.split(" (")[0] for statement in statements] == [
        "BEGIN", 'INSERT INTO "tasks_task"', 'INSERT INTO "events_event"', "COMMIT"]
    assert round_trips == 1


def test_a_key_records_its_use_at_most_once_a_minute(key_client, task):
    key_client.get(f"/api/v1/tasks/{task.pk}/")

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            key_client.get(f"/api/v1/tasks/{task.pk}/")

    assert not [query for query in queries if query["sql"].startswith("UPDATE")]


def test_after_a_change_the_next_request_reads_the_database_once_and_the_one_after_is_warm_again(
        user, tenant, key_client, task, redis_round_trips):
    key = user.api_keys.get()
    cost(redis_round_trips, lambda: key_client.get(f"/api/v1/tasks/{task.pk}/"), expected_status=200)
    key.name = "renamed"
    key.save(update_fields=["name"])  # clears the key's cached state

    with CaptureQueriesContext(connection) as cold:
        key_client.get(f"/api/v1/tasks/{task.pk}/")
    with CaptureQueriesContext(connection) as warm:
        key_client.get(f"/api/v1/tasks/{task.pk}/")

    assert [query["sql"].split('"')[1] for query in cold] == ["accounts_apikey", "tenants_membership", "tasks_task"]
    assert len(warm) == 1


def test_a_refused_credential_is_counted_as_anonymous_traffic(
        settings, user, key_client, task):
    settings.TESSERA_API = {**settings.TESSERA_API, "ANON_THROTTLE": "2/h", "DEFAULT_THROTTLE": "1000/h"}
    key_client.get(f"/api/v1/tasks/{task.pk}/")
    api_key_revoke(user.api_keys.get())

    responses = [key_client.get(f"/api/v1/tasks/{task.pk}/") for _ in range(3)]

    assert [response.status_code for response in responses] == [401, 401, 429]


def test_the_embedded_default_serves_and_revokes_through_the_cache_api(settings, user, tenant, task):
    """Without Redis (local memory, one process) the same cache works through Django's cache API."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = TenantAPIClient(tenant=tenant).as_user(user)
    client.get(f"/api/v1/tasks/{task.pk}/")

    with CaptureQueriesContext(connection) as warm:
        assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    warm_queries = len(warm)  # the query log is reset when the next request starts
    assert client.post("/api/v1/auth/password", {"old_password": PASSWORD, "new_password": "another-long-pass-9"}
                       ).status_code == 204

    assert warm_queries == 1
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 401
