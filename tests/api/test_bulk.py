"""Bulk writes: `POST /<resource>/bulk` with creates, updates and deletes, atomic or one by one (apps/api/bulk.py)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.checks import check_resource
from apps.api.errors import Conflict
from apps.api.testing import fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db

BULK = "/api/v1/tasks/bulk"


def create(title, **fields):
    return {"op": "create", "data": {"title": title, **fields}}


def test_an_atomic_bulk_creates_updates_and_deletes_and_answers_each_in_order(user_client, user, tenant, task):
    doomed = Task.objects.create(tenant=tenant, user=user, title="Doomed")

    response = user_client.post(BULK, {"operations": [
        create("First"), {"op": "update", "id": task.pk, "data": {"status": "completed"}},
        {"op": "delete", "id": doomed.pk}, create("Second", priority="critical")]}, format="json")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 200), (2, 204), (3, 201)]
    assert results[0]["data"]["title"] == "First" and results[3]["data"]["priority"] == "critical"
    assert results[1]["data"] == {**results[1]["data"], "id": task.pk, "status": "completed", "title": task.title}
    assert "data" not in results[2]
    assert set(Task.objects.filter(deleted_at=None).values_list("title", flat=True)) == {"First", "Second", task.title}
    assert Task.objects.get(pk=doomed.pk).deleted_at is not None  # tasks soft-delete, in bulk as one by one
    assert Task.objects.filter(title="First", tenant=tenant, user=user).exists()  # stamped as a single create is


def test_an_atomic_bulk_with_failures_writes_nothing_and_names_each_failure_by_position(user_client, task,
                                                                                        other_tenant_task):
    response = user_client.post(BULK, {"operations": [
        create("Fine"), create(""), {"op": "update", "id": other_tenant_task.pk, "data": {"title": "Mine now"}},
        {"op": "update", "id": task.pk, "data": {"status": "bogus"}}, {"op": "frobnicate"}]}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"operations.1.data.title", "operations.2", "operations.3.data.status",
                                     "operations.4.op"}
    assert error["details"]["operations.2"] == ["Not found."]
    assert list(Task.objects.filter(user=task.user).values_list("title", "status")) == [(task.title, "pending")]
    assert Task.objects.filter(pk=other_tenant_task.pk, title__contains=CANARY).exists()


class PickyTaskResource(TaskResource):
    """Its create hook refuses one title, as a service enforcing a rule would, after validation passed."""

    def perform_create(self, request, data):
        if data["title"] == "Refused":
            raise Conflict("A task of this title cannot be created.")
        return super().perform_create(request, data)


def serve_tasks(serve_site, resource_class=TaskResource):
    site = fresh_site()
    site.register(Task, resource_class)
    return serve_site(site)


def test_a_failure_while_writing_rolls_back_the_writes_before_it(serve_site, user_client, task):
    serve_tasks(serve_site, PickyTaskResource)

    response = user_client.post(BULK, {"operations": [
        create("Written then undone"), {"op": "update", "id": task.pk, "data": {"title": "Changed"}},
        create("Refused")]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"operations.2": ["A task of this title cannot be created."]}
    assert list(Task.objects.values_list("title", flat=True)) == [task.title]


def test_a_per_item_failure_while_writing_is_that_items_error(serve_site, user_client):
    serve_tasks(serve_site, PickyTaskResource)

    response = user_client.post(BULK, {"atomic": False, "operations": [create("Refused"), create("Fine")]},
                                format="json")

    assert [(r["status"], r.get("error", {}).get("code")) for r in response.json()["results"]] == [
        (409, "conflict"), (201, None)]
    assert list(Task.objects.values_list("title", flat=True)) == ["Fine"]


def test_a_per_item_bulk_applies_what_it_can_and_answers_207_with_each_outcome(user_client, task, second_user_task):
    response = user_client.post(BULK, {"atomic": False, "operations": [
        create("Kept"), create(""), {"op": "delete", "id": second_user_task.pk},
        {"op": "update", "id": task.pk, "data": {"priority": "low"}}]}, format="json")

    assert response.status_code == 207
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 400), (2, 404), (3, 200)]
    assert results[1]["error"]["code"] == "validation_error"
    assert results[1]["error"]["details"] == {"data.title": ["This field may not be blank."]}
    assert results[2]["error"]["code"] == "not_found"
    assert CANARY not in response.content.decode()
    assert Task.objects.filter(title="Kept").exists()
    assert Task.objects.get(pk=task.pk).priority == Task.Priority.LOW
    assert Task.objects.filter(pk=second_user_task.pk).exists()  # another user's task stays theirs


def test_a_row_named_twice_is_refused_at_its_second_operation(user_client, task):
    response = user_client.post(BULK, {"atomic": False, "operations": [
        {"op": "delete", "id": task.pk}, {"op": "delete", "id": task.pk}]}, format="json")

    assert [r["status"] for r in response.json()["results"]] == [204, 400]
    assert response.json()["results"][1]["error"]["details"] == {"id": ["Operation 0 names this row already."]}


@pytest.mark.parametrize("body, field", [
    ({"operations": []}, "operations"),
    ({"operations": "all of them"}, "operations"),
    ({"operations": [create("a")], "atomic": "perhaps"}, "atomic"),
    ({"operations": [create("a")], "atomik": False}, "atomik"),
])
def test_a_malformed_bulk_is_a_400_naming_the_field(user_client, body, field):
    response = user_client.post(BULK, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Task.objects.exists()


def test_an_unknown_key_in_an_operation_is_refused_not_ignored(user_client):
    response = user_client.post(BULK, {"operations": [{"op": "create", "data": {"title": "a"}, "id": 3}]},
                                format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"operations.0.id": ["Not a key of a bulk create."]}


def test_more_operations_than_the_limit_is_a_400_and_writes_nothing(settings, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "BULK_MAX_ITEMS": 3}

    response = user_client.post(BULK, {"operations": [create(str(n)) for n in range(4)]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"operations": ["At most 3 operations per request."]}
    assert not Task.objects.exists()


def test_a_resources_own_limit_comes_from_settings(settings, serve_site, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"bulk_max_items": 1}}}
    site = fresh_site()
    site.register(Task, TaskResource)
    serve_site(site)

    response = user_client.post(BULK, {"operations": [create("a"), create("b")]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"operations": ["At most 1 operations per request."]}


def test_a_viewer_cannot_bulk_write(viewer_client):
    response = viewer_client.post(BULK, {"operations": [create("Nope")]}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Task.objects.exists()


def test_a_bulk_delete_needs_the_delete_scope(user, tenant, task):
    from apps.accounts.scopes import role_scopes
    from apps.accounts.services import api_key_create
    from apps.accounts.testing import TenantAPIClient

    key = api_key_create(user=user, name="writer", scopes=["tasks:read", "tasks:write"],
                         allowed=role_scopes(user.role))
    client = TenantAPIClient(tenant=tenant).with_api_key(key.secret)

    refused = client.post(BULK, {"operations": [create("a"), {"op": "delete", "id": task.pk}]}, format="json")
    allowed = client.post(BULK, {"operations": [create("a")]}, format="json")

    assert refused.status_code == 403
    assert "tasks:delete" in refused.json()["error"]["message"]
    assert allowed.status_code == 200
    assert Task.objects.filter(pk=task.pk).exists() and Task.objects.filter(title="a").count() == 1


def test_each_operation_counts_against_the_rate_of_its_single_write(settings, serve_site, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"throttles": {"create": "5/h"}}}}
    serve_tasks(serve_site)

    first = user_client.post(BULK, {"operations": [create(str(n)) for n in range(3)]}, format="json")
    single = user_client.post("/api/v1/tasks/", {"title": "one more"})
    second = user_client.post(BULK, {"operations": [create(str(n)) for n in range(2)]}, format="json")

    assert first.status_code == 200
    assert first["X-RateLimit-Remaining"] == "2"
    assert single.status_code == 201
    assert second.status_code == 429  # its 2 creates would make 6 of 5
    assert second.json()["error"]["code"] == "throttled"
    assert Task.objects.count() == 4


def test_every_operation_counts_against_the_callers_overall_rate(settings, user_client, task):
    settings.TESSERA_API = {**settings.TESSERA_API, "DEFAULT_THROTTLE": "4/h"}

    bulk = user_client.post(BULK, {"operations": [create("a"), {"op": "update", "id": task.pk, "data": {}},
                                                  {"op": "delete", "id": task.pk}]}, format="json")
    reads = [user_client.get("/api/v1/tasks/").status_code for _ in range(2)]

    assert bulk.status_code == 400  # the row is named twice; the request still counted as its three writes
    assert reads == [200, 429]


@pytest.mark.parametrize("count", [1, 10])
def test_a_bulk_costs_one_select_for_its_rows_and_one_statement_per_write(user_client, user, tenant, count):
    rows = [Task.objects.create(tenant=tenant, user=user, title=f"row {n}") for n in range(2 * count)]
    operations = ([create(f"new {n}") for n in range(count)]
                  + [{"op": "update", "id": row.pk, "data": {"status": "completed"}} for row in rows[:count]]
                  + [{"op": "delete", "id": row.pk} for row in rows[count:]])
    user_client.get("/api/v1/tasks/")  # warm the caller's cache

    with CaptureQueriesContext(connection) as queries:
        response = user_client.post(BULK, {"operations": operations}, format="json")

    assert response.status_code == 200, response.content
    kinds = [query["sql"].split()[0] for query in queries if "tasks_task" in query["sql"]]
    # Tasks soft-delete: a delete is an UPDATE that marks the row.
    assert kinds == ["SELECT"] + ["INSERT"] * count + ["UPDATE"] * count + ["UPDATE"] * count
    # The test's own transaction turns the bulk's transaction into a savepoint; on a server it is BEGIN/COMMIT.
    # Each write's change event is one INSERT in the same transaction (tasks announce events).
    others = [query["sql"].split()[0] for query in queries if "tasks_task" not in query["sql"]]
    assert others == ["SAVEPOINT"] + ["INSERT"] * (3 * count) + ["RELEASE"]


def test_the_schema_documents_the_bulk_request_and_its_results(api_schema=None):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/tasks/bulk/"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TaskBulkRequest")
    assert {"200", "207", "400", "422"} <= set(operation["responses"])
    mapping = schema["components"]["schemas"]["TaskBulkOperationRequest"]["discriminator"]["mapping"]
    assert set(mapping) == {"create", "update", "delete"}


class NoCreateTaskResource(TaskResource):
    operations = ("list", "retrieve", "update")
    bulk = ("create", "update", "smash")


def test_checks_refuse_a_bulk_operation_the_resource_lacks_and_an_unknown_one():
    site = fresh_site()
    site.register(Task, NoCreateTaskResource)

    ids = sorted(error.id for error in check_resource(site.get_resource(Task)))

    assert ids == ["api.E041", "api.E042"]


def test_checks_refuse_a_bad_bulk_limit_and_a_string_for_bulk():
    class Loose(TaskResource):
        bulk = "create"

    class Zero(TaskResource):
        bulk_max_items = 0

    assert [e.id for e in check_resource(Loose(Task, fresh_site()))] == ["api.E040"]
    assert [e.id for e in check_resource(Zero(Task, fresh_site()))] == ["api.E044"]


def test_checks_refuse_a_bad_bulk_limit_in_settings(settings):
    from apps.api.checks import check_resources
    from apps.api.sites import site

    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"bulk_max_items": "lots"}}}

    assert "api.E044" in [error.id for error in check_resources(site=site)]
