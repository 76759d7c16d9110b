"""Conditional requests on `etags = True` resources (tasks): ETags, 304s, and If-Match as optimistic concurrency."""
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from apps.accounts.services import token_pair_issue
from apps.api.checks import check_resource
from apps.api.testing import fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


def detail(task) -> str:
    return f"/api/v1/tasks/{task.id}/"


# --- reads --------------------------------------------------------------------------------------------------------


def test_a_detail_carries_a_strong_etag_and_last_modified(user_client, task):
    response = user_client.get(detail(task))

    assert response.status_code == 200
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Last-Modified"] == http_date(task.updated_at.timestamp())


def test_a_detail_whose_etag_you_hold_is_304_without_a_body(user_client, task):
    etag = user_client.get(detail(task))["ETag"]

    response = user_client.get(detail(task), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_change_gives_the_detail_a_new_etag(user_client, task):
    etag = user_client.get(detail(task))["ETag"]
    user_client.patch(detail(task), {"title": "Changed"}, format="json")

    response = user_client.get(detail(task), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["title"] == "Changed"


def test_the_etag_is_that_of_the_json_whatever_its_formatting(user_client, task):
    compact = user_client.get(detail(task))
    indented = user_client.get(detail(task), HTTP_ACCEPT="application/json; indent=4")

    assert indented.content != compact.content
    assert indented["ETag"] == compact["ETag"]


def test_each_caller_gets_the_etag_of_what_they_see(user_client, admin_client, tenant, admin_user):
    """A row is the same for its owner on two requests; the validator is a hash of the body, not per caller."""
    task = Task.objects.create(tenant=tenant, user=admin_user, title="Admin's")

    first = admin_client.get(detail(task))["ETag"]
    second = admin_client.get(detail(task))["ETag"]

    assert first == second


def test_if_modified_since_at_the_last_change_is_304(user_client, task):
    last_modified = user_client.get(detail(task))["Last-Modified"]

    response = user_client.get(detail(task), HTTP_IF_MODIFIED_SINCE=last_modified)

    assert response.status_code == 304


def test_if_modified_since_before_the_last_change_is_200(user_client, task):
    earlier = http_date((task.updated_at - timedelta(seconds=5)).timestamp())

    response = user_client.get(detail(task), HTTP_IF_MODIFIED_SINCE=earlier)

    assert response.status_code == 200


def test_if_none_match_wins_over_if_modified_since(user_client, task):
    last_modified = user_client.get(detail(task))["Last-Modified"]

    response = user_client.get(detail(task), HTTP_IF_NONE_MATCH='"stale"', HTTP_IF_MODIFIED_SINCE=last_modified)

    assert response.status_code == 200


def test_a_list_page_carries_a_weak_etag_and_304s_on_it(user_client, task):
    etag = user_client.get("/api/v1/tasks/")["ETag"]

    response = user_client.get("/api/v1/tasks/", HTTP_IF_NONE_MATCH=etag)

    assert etag.startswith('W/"')
    assert response.status_code == 304
    assert response.content == b""


def test_a_new_row_changes_the_list_etag(user_client, task):
    etag = user_client.get("/api/v1/tasks/")["ETag"]
    user_client.post("/api/v1/tasks/", {"title": "Another"}, format="json")

    response = user_client.get("/api/v1/tasks/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_a_resource_without_etags_sends_none_and_ignores_the_headers(user_client, note):
    response = user_client.get(f"/api/v1/notes/{note.id}/", HTTP_IF_NONE_MATCH="*")
    patched = user_client.patch(f"/api/v1/notes/{note.id}/", {"body": "x"}, format="json", HTTP_IF_MATCH='"stale"')

    assert response.status_code == 200
    assert not response.has_header("ETag")
    assert patched.status_code == 200


def test_a_deployment_can_switch_etags_off_per_resource(settings, serve_site, user_client, task):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"etags": False}}}
    site = fresh_site()
    site.register(Task, TaskResource)
    serve_site(site)

    response = user_client.get(detail(task), HTTP_IF_NONE_MATCH="*")
    patched = user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH='"stale"')

    assert response.status_code == 200
    assert not response.has_header("ETag") and not response.has_header("Last-Modified")
    assert patched.status_code == 200


def test_a_conditional_read_costs_the_queries_of_a_plain_one(user_client, task):
    etag = user_client.get(detail(task))["ETag"]

    with CaptureQueriesContext(connection) as plain:
        user_client.get(detail(task))
    with CaptureQueriesContext(connection) as conditional:
        assert user_client.get(detail(task), HTTP_IF_NONE_MATCH=etag).status_code == 304

    assert len(conditional) == len(plain)


# --- writes -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, body", [("put", {"title": "Mine", "status": "completed"}),
                                          ("patch", {"title": "Mine"}), ("delete", None)])
def test_a_write_with_a_stale_if_match_is_412_and_writes_nothing(user_client, task, method, body):
    stale = user_client.get(detail(task))["ETag"]
    Task.objects.filter(pk=task.pk).update(title="Someone else's edit")

    response = getattr(user_client, method)(detail(task), body, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"
    assert list(response.json()["error"]["details"]) == ["If-Match"]
    row = Task.objects.get(pk=task.pk)
    assert (row.title, row.deleted_at) == ("Someone else's edit", None)


@pytest.mark.parametrize("method, body, expected", [("put", {"title": "Mine"}, 200), ("patch", {"title": "Mine"}, 200),
                                                    ("delete", None, 204)])
def test_a_write_with_the_current_etag_succeeds(user_client, task, method, body, expected):
    current = user_client.get(detail(task))["ETag"]

    response = getattr(user_client, method)(detail(task), body, format="json", HTTP_IF_MATCH=current)

    assert response.status_code == expected


def test_an_update_answers_with_the_etag_a_read_then_gives(user_client, task):
    current = user_client.get(detail(task))["ETag"]

    response = user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH=current)

    assert response["ETag"] == user_client.get(detail(task))["ETag"] != current


def test_if_match_star_matches_any_row(user_client, task):
    response = user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200


def test_a_weak_etag_never_matches_a_write(user_client, task):
    current = user_client.get(detail(task))["ETag"]

    response = user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH=f"W/{current}")

    assert response.status_code == 412


def test_if_match_with_any_of_several_etags(user_client, task):
    current = user_client.get(detail(task))["ETag"]

    response = user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH=f'"old", {current}')

    assert response.status_code == 200


def test_if_match_on_another_users_task_is_still_404(second_user_client, task, user_client):
    current = user_client.get(detail(task))["ETag"]

    response = second_user_client.patch(detail(task), {"title": "Mine"}, format="json", HTTP_IF_MATCH=current)

    assert response.status_code == 404


def test_the_schema_documents_the_headers_and_the_304_and_412_answers():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    retrieve, patch = paths["/api/v1/tasks/{id}/"]["get"], paths["/api/v1/tasks/{id}/"]["patch"]

    assert {"If-None-Match", "If-Modified-Since"} <= {p["name"] for p in retrieve["parameters"]}
    assert {"ETag", "Last-Modified"} <= set(retrieve["responses"]["200"]["headers"])
    assert "content" not in retrieve["responses"]["304"]
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    assert patch["responses"]["412"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")


# --- two writers holding the same ETag, on a real server ----------------------------------------------------------


@pytest.fixture
def server(start_server, settings):
    # granian's threads serve requests side by side (uvicorn would run Django's sync views one at a time).
    return start_server(module="config.serve.wsgi", REDIS_URL=settings.REDIS_URL)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()")
        return cursor.fetchone()[0]


def test_of_two_writers_with_the_same_etag_exactly_one_succeeds(server, user, tenant):
    task = Task.objects.create(tenant=tenant, user=user, title="Original")
    headers = {"Authorization": f"Bearer {token_pair_issue(user)['access']}", "X-Tenant-ID": str(tenant.pk),
               "Content-Type": "application/json"}
    status, answer_headers, _ = server.request("GET", detail(task), headers=headers)
    assert status == 200
    etag = {name.lower(): value for name, value in answer_headers.items()}["etag"]
    answers = []

    def write(title):
        body = json.dumps({"title": title}).encode()
        answers.append(server.request("PATCH", detail(task), body=body, headers={**headers, "If-Match": etag})[0])

    writers = [threading.Thread(target=write, args=(title,)) for title in ("First", "Second")]
    # Hold the row so both writers are inside their transactions, past reading it, before either may go on.
    with transaction.atomic():
        Task.objects.select_for_update().get(pk=task.pk)
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 20
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_on_locks() == 2
    for writer in writers:
        writer.join()

    assert sorted(answers) == [200, 412]
    assert Task.objects.get(pk=task.pk).title in ("First", "Second")


# --- system checks ------------------------------------------------------------------------------------------------


def check(resource_class) -> list[str]:
    site = fresh_site()
    site.register(Task, resource_class)
    return [error.id for error in check_resource(site.get_resource(Task))]


def test_etags_must_be_a_boolean_e055():
    class Stringly(TaskResource):
        etags = "yes"

    assert check(Stringly) == ["api.E055"]


@pytest.mark.parametrize("field", ["modified", "title"])
def test_last_modified_must_name_a_datetime_field_e056(field):
    class Elsewhere(TaskResource):
        last_modified = field

    assert check(Elsewhere) == ["api.E056"]


def test_last_modified_must_be_set_on_every_save_e057():
    class Created(TaskResource):
        last_modified = "created_at"

    assert check(Created) == ["api.E057"]
