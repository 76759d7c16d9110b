"""The OpenAPI schema generates with no warnings and documents what the generator promises; docs are served."""
import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from apps.tasks.api import TaskResource

pytestmark = pytest.mark.django_db

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


@pytest.fixture(scope="module")
def generated():
    """The project's schema, and every warning or error drf-spectacular emitted while generating it."""
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


@pytest.fixture(scope="module")
def schema(generated):
    return generated[0]


def operation(schema, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def test_the_schema_generates_without_warnings_or_errors(generated):
    _, problems = generated

    assert problems == []


def test_the_schema_is_valid_openapi_3(schema):
    validate_schema(schema)


def test_the_spectacular_command_passes_with_validation_and_warnings_as_errors(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert target.read_text().startswith("openapi: 3")


@pytest.mark.parametrize("path, tag", [
    ("/api/v1/tasks/", "tasks"),
    ("/api/v1/tasks/{id}/", "tasks"),
    ("/api/v1/notes/", "notes"),
    ("/api/v1/notes/{id}/pin/", "notes"),
    ("/api/v1/notes/bodies/", "notes"),
])
def test_every_operation_of_a_resource_is_tagged_with_its_name(schema, path, tag):
    tags = {tuple(op["tags"]) for op in schema["paths"][path].values()}

    assert tags == {(tag,)}


@pytest.mark.parametrize("enum_name, values", [
    ("TaskStatusEnum", ["pending", "in_progress", "completed", "cancelled"]),
    ("TaskPriorityEnum", ["low", "medium", "high", "critical"]),
])
def test_task_enums_have_stable_names(schema, enum_name, values):
    assert schema["components"]["schemas"][enum_name]["enum"] == values


@pytest.mark.parametrize("field, enum_name", [("status", "TaskStatusEnum"), ("priority", "TaskPriorityEnum")])
def test_the_task_component_refers_to_the_named_enums(schema, field, enum_name):
    assert schema["components"]["schemas"]["Task"]["properties"][field] == {
        "$ref": f"#/components/schemas/{enum_name}"}


def test_the_task_component_lists_exactly_the_declared_fields(schema):
    assert list(schema["components"]["schemas"]["Task"]["properties"]) == list(TaskResource.fields)


def test_the_error_envelope_component_has_the_api_md_shape(schema):
    components = schema["components"]["schemas"]

    assert components["ErrorEnvelope"]["required"] == ["error"]
    assert components["ErrorEnvelope"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert set(components["ErrorDetail"]["required"]) == {"code", "message", "details", "request_id"}


def test_the_documented_error_codes_are_those_of_api_md(schema):
    codes = set(schema["components"]["schemas"]["CodeEnum"]["enum"])

    assert {"validation_error", "not_authenticated", "authentication_failed", "token_invalid",
            "permission_denied", "not_found", "method_not_allowed", "conflict", "payload_too_large",
            "unsupported_media_type", "throttled", "server_error", "unavailable"} <= codes


@pytest.mark.parametrize("path, method, statuses", [
    ("/api/v1/tasks/", "get", {"400", "401", "403", "404", "429"}),
    ("/api/v1/tasks/", "post", {"400", "401", "403", "415", "429"}),
    ("/api/v1/tasks/{id}/", "delete", {"401", "403", "404", "429"}),
    ("/api/v1/notes/{id}/pin/", "post", {"401", "403", "404", "409", "429"}),
])
def test_error_responses_are_documented_with_the_envelope(schema, path, method, statuses):
    responses = operation(schema, path, method)["responses"]

    documented = {status for status, response in responses.items()
                  if response.get("content", {}).get("application/json", {}).get("schema") == {"$ref": ENVELOPE_REF}}
    assert statuses <= documented


@pytest.mark.parametrize("path, method", [("/api/v1/tasks/", "get"), ("/api/v1/tasks/{id}/", "patch"),
                                          ("/api/v1/notes/{id}/pin/", "post")])
def test_authenticated_operations_document_the_tenant_header(schema, path, method):
    headers = [p["name"] for p in operation(schema, path, method).get("parameters", []) if p["in"] == "header"]

    assert "X-Tenant-ID" in headers


def test_public_operations_do_not_document_the_tenant_header(schema):
    parameters = operation(schema, "/health", "get").get("parameters", [])

    assert "X-Tenant-ID" not in [p["name"] for p in parameters]


@pytest.mark.parametrize("name", ["status", "priority", "due_before", "due_after", "search", "ordering",
                                  "page", "page_size"])
def test_the_task_list_documents_its_query_parameters(schema, name):
    query = [p["name"] for p in operation(schema, "/api/v1/tasks/", "get")["parameters"] if p["in"] == "query"]

    assert name in query


def test_the_resource_docstring_is_the_operation_description(schema):
    description = operation(schema, "/api/v1/tasks/", "get")["description"]

    assert description.startswith("Personal to-do items.")


def test_an_action_docstring_is_its_description(schema):
    pin = operation(schema, "/api/v1/notes/{id}/pin/", "post")

    assert (pin["operationId"], pin["description"]) == ("notes_pin", "Pin a note; pinning a pinned note is 409.")


@pytest.mark.parametrize("path", ["/api/schema/", "/openapi.json", "/api/docs/", "/docs", "/api/redoc/", "/redoc",
                                  "/", "/health"])
def test_service_and_documentation_pages_answer_without_credentials(client, path):
    response = client.get(path)

    assert response.status_code == 200


def test_the_index_links_to_the_api_and_its_docs(client):
    response = client.get("/")

    assert response.json()["name"] == "Tessera"
    assert response.json()["links"]["openapi"] == "/api/schema/"


def test_health_reports_healthy(client):
    response = client.get("/health")

    assert response.json()["status"] == "healthy"


def test_the_served_schema_is_openapi_3(client):
    response = client.get("/api/schema/?format=json")

    assert response.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"])
def test_open_operations_that_authenticate_document_401(schema, path):
    responses = operation(schema, path, "post")["responses"]

    assert "401" in responses


def test_operations_without_authenticators_document_no_401(schema):
    assert "401" not in operation(schema, "/health", "get")["responses"]


def test_a_declared_list_action_is_documented_as_a_plain_list_without_list_parameters(schema):
    bodies = operation(schema, "/api/v1/notes/bodies/", "get")

    ok = bodies["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["type"] == "array"
    assert [p["name"] for p in bodies["parameters"] if p["in"] == "query"] == ["text"]


@pytest.mark.parametrize("path, method", [("/api/v1/tasks/", "post"), ("/api/v1/tasks/{id}/", "patch"),
                                          ("/api/v1/auth/register/", "post")])
def test_writes_document_conflict_and_payload_too_large(schema, path, method):
    responses = operation(schema, path, method)["responses"]

    assert {"409", "413"} <= set(responses)


def test_a_declared_list_action_really_returns_a_plain_list(user_client, note):
    response = user_client.get("/api/v1/notes/bodies/?text=milk&page_size=1&ordering=-created_at")

    assert response.json() == [{"id": note.id, "body": "Buy milk"}]
