"""Sparse fieldsets: `?fields=` narrows a list or a detail to the named fields, and the query to their columns."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from apps.tasks.models import Task
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db

#: The serializer path (rendering.py renders rows only for DRF's compact JSON): both paths must narrow alike.
RENDERINGS = pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT": "application/json; indent=2"}],
                                     ids=["rows", "serializer"])


def task_selects(queries) -> list[str]:
    """The column lists of the statements that read tasks."""
    return [query["sql"].split(" FROM ")[0] for query in queries
            if query["sql"].startswith("SELECT") and 'FROM "tasks_task"' in query["sql"]]


@RENDERINGS
def test_a_list_renders_only_the_fields_asked_for(user_client, task, headers):
    response = user_client.get("/api/v1/tasks/?fields=id,title", **headers)

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": task.id, "title": "Write the spec"}]


@RENDERINGS
def test_a_detail_renders_only_the_fields_asked_for(user_client, task, headers):
    response = user_client.get(f"/api/v1/tasks/{task.id}/?fields=priority,title", **headers)

    assert response.status_code == 200
    assert response.json() == {"id": task.id, "title": "Write the spec", "priority": "high"}


def test_the_primary_key_always_comes_along(user_client, task):
    response = user_client.get("/api/v1/tasks/?fields=status")

    assert response.json()["results"] == [{"id": task.id, "status": "pending"}]


@RENDERINGS
def test_a_list_selects_only_the_columns_asked_for(user_client, task, headers):
    with CaptureQueriesContext(connection) as queries:
        user_client.get("/api/v1/tasks/?fields=id,title", **headers)

    selects = task_selects(queries.captured_queries)
    page = selects[-1]  # after the COUNT of the paginator
    assert '"tasks_task"."title"' in page
    assert not any(f'"tasks_task"."{column}"' in page for column in ("description", "status", "due_date",
                                                                     "created_at", "priority"))


@RENDERINGS
def test_a_detail_selects_only_the_columns_asked_for(user_client, task, headers):
    with CaptureQueriesContext(connection) as queries:
        user_client.get(f"/api/v1/tasks/{task.id}/?fields=title", **headers)

    (select,) = task_selects(queries.captured_queries)
    assert select.count('"tasks_task".') == 3  # id and title, and updated_at for the Last-Modified header
    assert '"tasks_task"."title"' in select and '"tasks_task"."id"' in select


def test_without_fields_every_field_is_rendered(user_client, task):
    response = user_client.get(f"/api/v1/tasks/{task.id}/")

    assert set(response.json()) == {"id", "title", "description", "status", "priority", "due_date", "created_at",
                                    "updated_at", "deleted_at"}


@pytest.mark.parametrize("query, named", [("fields=id,titel", "titel"), ("fields=user", "user"),
                                          ("fields=tenant,id", "tenant")])
def test_a_field_the_caller_cannot_read_is_a_400_naming_it(user_client, task, query, named):
    response = user_client.get(f"/api/v1/tasks/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert named in response.json()["error"]["details"]["fields"][0]


@pytest.mark.parametrize("query", ["fields=", "fields=,,"])
def test_naming_no_field_is_a_400(user_client, task, query):
    response = user_client.get(f"/api/v1/tasks/{task.id}/?{query}")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["fields"]


def test_fields_combine_with_filters_ordering_and_pages(user_client, task, user, tenant):
    Task.objects.create(tenant=tenant, user=user, title="Second", priority=Task.Priority.LOW)

    response = user_client.get("/api/v1/tasks/?fields=title&ordering=priority&priority=low&page_size=1")

    assert response.json()["results"] == [{"id": response.json()["results"][0]["id"], "title": "Second"}]


def test_fields_never_widen_what_a_caller_sees(user_client, other_tenant_task):
    response = user_client.get("/api/v1/tasks/?fields=id,title")

    assert CANARY not in response.content.decode()
    assert response.json()["count"] == 0


def test_a_note_list_with_a_foreign_key_field_reads_its_id_column_only(user_client, note):
    with CaptureQueriesContext(connection) as queries:
        response = user_client.get("/api/v1/notes/?fields=author", HTTP_ACCEPT="application/json; indent=2")

    assert response.json()["results"] == [{"id": note.id, "author": note.author_id}]
    page = [q["sql"] for q in queries.captured_queries if 'FROM "testapp_note"' in q["sql"]][-1]
    assert "accounts_user" not in page and '"testapp_note"."body"' not in page


@pytest.mark.parametrize("path", ["/api/v1/tasks/", "/api/v1/tasks/{id}/"])
def test_the_schema_documents_the_fields_parameter(path):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "fields"]
    assert parameter["in"] == "query"
    assert "Allowed: id, title, description" in parameter["description"]


def test_a_resource_with_its_own_serializer_narrows_alike(user_client, tenant):
    response = user_client.get(f"/api/v1/tenants/{tenant.slug}/?fields=name")

    assert response.status_code == 200
    assert response.json() == {"id": tenant.id, "name": "Acme"}
