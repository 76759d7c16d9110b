"""`Idempotency-Key` on generated POSTs: a retry replays the first answer and runs nothing twice (apps/api/idempotency.py).
"""
import json
import threading

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection, transaction

from apps.accounts.services import token_pair_issue
from apps.api.testing import fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.api import test_request_budget as budget
from tests.conftest import client_for
from tests.testapp.models import Note
from tests.workers import wait_for

pytestmark = pytest.mark.django_db

redis_round_trips = budget.redis_round_trips  # the fixture that counts round trips to Redis where redis-py sends them

TASKS = "/api/v1/tasks/"


def post(client, path, body, key, **extra):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retry_with_the_same_key_replays_the_first_response_and_creates_one_row(user_client):
    first = post(user_client, TASKS, {"title": "Once"}, "key-1")
    retry = post(user_client, TASKS, {"title": "Once"}, "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Task.objects.filter(title="Once").count() == 1


def test_the_same_key_with_another_body_is_422(user_client):
    post(user_client, TASKS, {"title": "Once"}, "key-1")

    response = post(user_client, TASKS, {"title": "Twice"}, "key-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert list(Task.objects.values_list("title", flat=True)) == ["Once"]


def test_the_same_key_on_another_path_is_422(user_client, note):
    post(user_client, TASKS, {"title": "Once"}, "key-1")

    response = post(user_client, "/api/v1/notes/", {"title": "Once"}, "key-1")

    assert response.status_code == 422


def test_keys_belong_to_the_caller(user_client, second_user_client):
    mine = post(user_client, TASKS, {"title": "Same"}, "shared-key")
    theirs = post(second_user_client, TASKS, {"title": "Same"}, "shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert Task.objects.filter(title="Same").count() == 2


def test_keys_belong_to_the_tenant_too(mixed_user, tenant, other_tenant):
    from apps.tenants.models import Membership

    Membership.objects.filter(user=mixed_user, tenant=tenant).update(role=Membership.Role.MEMBER)

    here = post(client_for(mixed_user, tenant), TASKS, {"title": "Same"}, "shared-key")
    there = post(client_for(mixed_user, other_tenant), TASKS, {"title": "Same"}, "shared-key")

    assert here.status_code == there.status_code == 201
    assert sorted(Task.objects.values_list("tenant", flat=True)) == sorted([tenant.pk, other_tenant.pk])


def test_a_validation_error_is_replayed_as_it_was(user_client):
    first = post(user_client, TASKS, {"title": ""}, "key-1")
    retry = post(user_client, TASKS, {"title": ""}, "key-1")

    assert first.status_code == retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["error"]["details"] == first.json()["error"]["details"]


class FailingTaskResource(TaskResource):
    """A create that breaks (a 500) for one title, as a bug or an outage would."""

    def perform_create(self, request, data):
        if data["title"] == "Boom":
            raise RuntimeError("the database went away")
        return super().perform_create(request, data)


def test_a_server_error_releases_the_key_so_a_retry_runs_again(serve_site, user_client):
    site = fresh_site()
    site.register(Task, FailingTaskResource)
    serve_site(site)

    failed = post(user_client, TASKS, {"title": "Boom"}, "key-1")
    retried = post(user_client, TASKS, {"title": "Boom"}, "key-1")
    reused = post(user_client, TASKS, {"title": "Fine"}, "key-1")

    assert failed.status_code == retried.status_code == 500
    assert not retried.has_header("Idempotent-Replayed")
    assert reused.status_code == 201  # not 422: the failures left nothing under the key


def test_an_action_runs_once_and_its_retry_replays(user_client, note):
    first = post(user_client, f"/api/v1/notes/{note.pk}/pin", {}, "pin-1")
    retry = post(user_client, f"/api/v1/notes/{note.pk}/pin", {}, "pin-1")
    without_key = user_client.post(f"/api/v1/notes/{note.pk}/pin")

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert without_key.status_code == 409  # pinning twice is a conflict: the replay did not pin again
    assert Note.objects.get(pk=note.pk).pinned


def test_a_bulk_runs_once_and_its_retry_replays(user_client):
    body = {"operations": [{"op": "create", "data": {"title": f"Bulk {n}"}} for n in range(3)]}

    first = post(user_client, "/api/v1/tasks/bulk", body, "bulk-1")
    retry = post(user_client, "/api/v1/tasks/bulk", body, "bulk-1")

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert Task.objects.count() == 3


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_an_empty_long_or_non_ascii_key_is_a_400_naming_the_header(user_client, key):
    response = user_client.post(TASKS, {"title": "No"}, format="json", HTTP_IDEMPOTENCY_KEY=key.encode().decode(
        "latin-1"))

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert not Task.objects.exists()


def test_a_key_may_be_sent_as_a_structured_field_string(user_client):
    first = post(user_client, TASKS, {"title": "Quoted"}, '"abc-123"')
    retry = post(user_client, TASKS, {"title": "Quoted"}, "abc-123")

    assert retry.status_code == first.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"


def test_an_endpoint_that_shows_a_secret_once_refuses_the_key(user_client):
    response = post(user_client, "/api/v1/auth/api-keys/", {"name": "ci", "scopes": ["tasks:read"]}, "key-1")

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="reads the key's lifetime in Redis")
def test_a_stored_response_is_kept_for_a_day(user_client):
    post(user_client, TASKS, {"title": "Once"}, "key-1")

    client = caches["default"]._cache.get_client(write=True)
    (name,) = list(client.scan_iter(match="*idem:*"))

    assert 24 * 60 * 60 - 60 < client.ttl(name) <= 24 * 60 * 60


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="counts round trips to a real Redis (REDIS_URL)")
def test_a_post_without_the_header_costs_no_extra_round_trip_and_with_it_two(user_client, redis_round_trips):
    _, plain = budget.cost(redis_round_trips, lambda: user_client.post(TASKS, {"title": "New"}), expected_status=201)
    keys = iter(range(10))
    _, keyed = budget.cost(redis_round_trips, lambda: post(user_client, TASKS, {"title": "New"}, f"k{next(keys)}"),
                    expected_status=201)

    assert plain == 1
    assert keyed == plain + 2  # the claim, then the stored response


def test_the_schema_documents_the_header_on_posts_only(api_schema=None):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def headers(path, method):
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"}

    assert "Idempotency-Key" in headers("/api/v1/tasks/", "post")
    assert "Idempotency-Key" in headers("/api/v1/tasks/bulk/", "post")
    assert "Idempotency-Key" in headers("/api/v1/notes/{id}/pin/", "post")
    assert "422" in paths["/api/v1/tasks/"]["post"]["responses"]
    assert "Idempotency-Key" not in headers("/api/v1/tasks/", "get")
    assert "Idempotency-Key" not in headers("/api/v1/tasks/{id}/", "patch")
    assert "Idempotency-Key" not in headers("/api/v1/auth/api-keys/", "post")


# --- Two requests at once, on two connections to a real server ---------------------------------------------------

def waiting_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE relation = 'tasks_task'::regclass AND NOT granted")
        return cursor.fetchone()[0]


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="servers share the key only through Redis")
def test_two_concurrent_requests_with_one_key_do_the_work_once(start_server, user, tenant):
    server = start_server()
    headers = {"Authorization": f"Bearer {token_pair_issue(user)['access']}", "X-Tenant-ID": str(tenant.pk),
               "Content-Type": "application/json", "Idempotency-Key": "at-once"}
    body = json.dumps({"title": "Once"}).encode()
    answers, start = [], threading.Barrier(2)

    def send():
        start.wait()
        answers.append(server.request("POST", TASKS, body=body, headers=headers))

    senders = [threading.Thread(target=send) for _ in range(2)]
    # Inserts into tasks wait for this lock, so whichever request claims the key is still running when the other
    # one asks: the claim, not the timing, decides which of them does the work.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE tasks_task IN SHARE MODE")
        for sender in senders:
            sender.start()
        wait_for(lambda: len(answers) == 1 and waiting_inserts() == 1, timeout=20,
                 what="one request answered and the other waiting to insert")
        refused_while_running = answers[0]
    for sender in senders:
        sender.join(timeout=20)
    replay = server.request("POST", TASKS, body=body, headers=headers)

    assert refused_while_running[0] == 409
    assert json.loads(refused_while_running[2])["error"]["code"] == "conflict"
    assert answers[1][0] == 201
    assert Task.objects.filter(title="Once").count() == 1
    assert replay[0] == 201 and replay[2] == answers[1][2]
    assert {name.lower(): value for name, value in replay[1].items()}["idempotent-replayed"] == "true"
