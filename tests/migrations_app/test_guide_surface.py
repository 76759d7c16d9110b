"""The Migration Assistant user guide's surface at its own root paths: the same migrations and presets as /api/v1/,
with the guide's envelope (plain-array lists paged by limit and offset, receipts, the guide's error codes)."""
import pytest

from apps.migrations_app.models import MigrationRun
from apps.accounts.testing import TenantAPIClient
from tests.conftest import CANARY, client_for


pytestmark = pytest.mark.django_db


def create(client, plan, name="Move the tree") -> dict:
    response = client.post("/migrations/", {"name": name, **plan}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Create, list, status ------------------------------------------------------------------------------------------

def test_create_answers_the_guides_receipt(guide_client, plan):
    response = guide_client.post("/migrations/", {"name": "Move the tree", **plan}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"session_id", "status", "message", "created_at"}
    assert (body["status"], body["message"]) == ("pending", "Migration session created successfully")
    assert MigrationRun.objects.get().session_id == body["session_id"]


def test_the_list_is_a_plain_array_of_the_callers_tenant_with_totals_in_headers(guide_client, plan):
    created = [create(guide_client, plan, name=f"Move {n}")["session_id"] for n in range(3)]

    response = guide_client.get("/migrations/?limit=2")

    assert response.status_code == 200
    assert [row["session_id"] for row in response.json()] == created[::-1][:2]
    assert response["X-Total-Count"] == "3"
    assert 'rel="next"' in response["Link"] and "offset=2" in response["Link"]


def test_the_list_pages_with_offset_and_links_back(guide_client, plan):
    created = [create(guide_client, plan, name=f"Move {n}")["session_id"] for n in range(3)]

    response = guide_client.get("/migrations/?limit=2&offset=2")

    assert [row["session_id"] for row in response.json()] == [created[0]]
    assert 'rel="prev"' in response["Link"] and 'rel="next"' not in response["Link"]


def test_the_list_rows_carry_the_guides_fields(guide_client, plan):
    create(guide_client, plan)

    row = guide_client.get("/migrations/").json()[0]

    assert {"session_id", "name", "status", "created_at", "start_time", "end_time", "source_type",
            "destination_type", "progress"} <= set(row)
    assert (row["source_type"], row["destination_type"]) == ("directory", "directory")


def test_status_filter_narrows_the_list(guide_client, plan):
    create(guide_client, plan)

    assert guide_client.get("/migrations/?status_filter=pending").json() != []
    assert guide_client.get("/migrations/?status_filter=running").json() == []


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=many", "limit"), ("offset=-1", "offset"),
                                          ("status_filter=bogus", "status_filter")])
def test_a_bad_list_parameter_is_400_naming_it_with_the_guides_code(guide_client, query, field):
    response = guide_client.get(f"/migrations/?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_CONFIGURATION"
    assert field in error["details"] and error["details"]["validation_errors"][0]["field"] == field
    assert error["timestamp"] and error["request_id"]


def test_a_limit_above_the_maximum_is_clamped(guide_client, plan):
    create(guide_client, plan)

    response = guide_client.get("/migrations/?limit=100000")

    assert response.status_code == 200 and len(response.json()) == 1


def test_status_reads_the_guides_fields(guide_client, plan):
    session_id = create(guide_client, plan)["session_id"]

    response = guide_client.get(f"/migrations/{session_id}/status")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["session_id"], body["status"], body["progress"], body["error"]) == (session_id, "pending", 0, None)
    assert {"current_step", "start_time", "end_time", "duration", "steps_completed", "steps_total",
            "performance_metrics", "current_operation"} <= set(body)


def test_both_surfaces_answer_the_same_status_in_the_same_words(guide_client, user, tenant, plan):
    session_id = create(guide_client, plan)["session_id"]

    guide = guide_client.get(f"/migrations/{session_id}/status").json()
    tessera = client_for(user, tenant).get(f"/api/v1/migrations/{session_id}/status").json()

    assert guide == tessera


# --- The verbs answer receipts ----------------------------------------------------------------------------------

def test_start_answers_started_with_the_guides_message(guide_client, plan):
    session_id = create(guide_client, plan)["session_id"]

    response = guide_client.post(f"/migrations/{session_id}/start", {"auto_rollback": True}, format="json")

    assert response.status_code == 202, response.content
    assert response.json() == {"session_id": session_id, "status": "started",
                               "message": "Migration execution started in background"}


def test_starting_a_started_migration_is_migration_already_running(guide_client, plan):
    session_id = create(guide_client, plan)["session_id"]
    guide_client.post(f"/migrations/{session_id}/start", format="json")

    response = guide_client.post(f"/migrations/{session_id}/start", format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "MIGRATION_ALREADY_RUNNING"
    assert (error["details"]["session_id"], error["details"]["current_status"]) == (session_id, "started")
    assert "started_at" in error["details"] and error["timestamp"]


def test_cancel_answers_a_receipt(guide_client, plan):
    session_id = create(guide_client, plan)["session_id"]
    guide_client.post(f"/migrations/{session_id}/start", format="json")

    response = guide_client.post(f"/migrations/{session_id}/cancel", format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"session_id": session_id, "status": "cancelled",
                               "message": "Migration cancellation initiated"}


def test_cancelling_a_finished_migration_is_a_conflict_not_running(guide_client, plan):
    session_id = create(guide_client, plan)["session_id"]
    MigrationRun.objects.filter(session_id=session_id).update(status="completed")

    response = guide_client.post(f"/migrations/{session_id}/cancel", format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "CONFLICT")


# --- Errors in the guide's codes -------------------------------------------------------------------------------

def test_an_unknown_session_is_migration_not_found(guide_client):
    response = guide_client.get("/migrations/0123456789abcdef0123456789abcdef/status")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("MIGRATION_NOT_FOUND",
                                                 {"session_id": "0123456789abcdef0123456789abcdef"})


def test_another_tenants_session_is_not_found_and_never_listed(guide_client, other_user, other_tenant, plan):
    foreign = create(client_for(other_user, other_tenant), plan, name=f"Globex {CANARY}")["session_id"]

    status = guide_client.get(f"/migrations/{foreign}/status")
    listed = guide_client.get("/migrations/")

    assert (status.status_code, status.json()["error"]["code"]) == (404, "MIGRATION_NOT_FOUND")
    assert CANARY not in listed.content.decode()


def test_no_credentials_is_authentication_required_with_where_to_get_them(anon_client):
    response = anon_client.get("/migrations/")

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AUTHENTICATION_REQUIRED"
    assert error["details"] == {"supported_methods": ["Bearer", "API-Key"], "auth_url": "/auth/token"}


def test_a_key_without_the_scope_is_insufficient_permissions_naming_both(read_only_key, plan):
    client = TenantAPIClient().with_api_key(read_only_key.secret)

    response = client.post("/migrations/", {"name": "Move", **plan}, format="json")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_PERMISSIONS"
    assert error["details"]["required_scope"] == "migrations:write"
    assert "migrations:write" not in error["details"]["current_scopes"]


def test_an_invalid_config_is_invalid_configuration_naming_the_field(guide_client, plan):
    response = guide_client.post("/migrations/", {"name": "Move", **plan, "source": {"type": "teleport"}},
                                 format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_CONFIGURATION"
    assert {"field": "source.type"}.items() <= error["details"]["validation_errors"][0].items()
    assert not MigrationRun.objects.exists()


def test_the_same_refusal_keeps_tessera_codes_under_api_v1(user, tenant, plan):
    response = client_for(user, tenant).post("/api/v1/migrations/", {"name": "Move", **plan,
                                                                     "source": {"type": "teleport"}}, format="json")

    assert response.json()["error"]["code"] == "validation_error"
    assert "timestamp" not in response.json()["error"]


# --- Presets, validation, the catalogue, root and health ---------------------------------------------------------

def test_presets_are_a_plain_array_and_create_migration_answers_a_receipt(guide_client, allowed):
    presets = guide_client.get("/presets/").json()
    assert isinstance(presets, list) and presets
    slug = presets[0]["id"]

    preset = guide_client.get(f"/presets/{slug}")

    assert preset.status_code == 200, preset.content
    assert {"id", "name", "description", "config_template", "custom"} <= set(preset.json())


def test_validate_at_the_guides_path_counts_its_checks(guide_client, plan):
    response = guide_client.post("/validate/", {"name": "Test", **plan}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert isinstance(body["checks_performed"], int) and body["checks_performed"] >= 1
    assert body["valid"] is True and body["can_proceed"] is True
    assert isinstance(body["estimated_duration"], str)


def test_system_types_answers_the_guides_three_lists(guide_client):
    response = guide_client.get("/system/types")

    assert response.status_code == 200
    body = response.json()
    assert {"system_types", "transfer_methods", "database_types"} <= set(body)
    assert "directory" in body["system_types"] and "postgresql" in body["database_types"]
    assert "hybrid_sync" in body["transfer_methods"]


def test_health_answers_the_guides_shape(anon_client):
    body = anon_client.get("/health").json()

    assert (body["status"], body["service"]) == ("healthy", "Migration Assistant API")
    assert body["version"] and body["timestamp"]
    assert body["components"] == {"orchestrator": True, "preset_manager": True, "validation_engine": True}


def test_the_root_answers_the_guides_shape(anon_client):
    body = anon_client.get("/").json()

    assert {"name", "version", "description", "docs_url", "redoc_url", "health_url", "features"} <= set(body)
    assert (body["docs_url"], body["redoc_url"], body["health_url"]) == ("/docs", "/redoc", "/health")


@pytest.mark.parametrize("seconds, readable", [(None, None), (20, "less than a minute"), (40 * 60, "32-48 minutes"),
                                               (60, "1-2 minutes"), (5 * 3600, "4-6 hours")])
def test_an_estimate_reads_as_a_range(seconds, readable):
    from apps.migrations_app.api import readable_duration

    assert readable_duration(seconds) == readable


# --- Documentation ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] == []
    return generated


def test_openapi_documents_both_surfaces_each_under_its_tag(schema):
    guide, tessera = schema["paths"]["/migrations/"]["get"], schema["paths"]["/api/v1/migrations/"]["get"]

    assert (guide["tags"], tessera["tags"]) == (["Migration Assistant (guide paths)"], ["migrations"])
    assert guide["operationId"] == f"guide_{tessera['operationId']}"
    assert guide["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/GuidePaginatedMigrationList")
    assert set(guide["responses"]["200"]["headers"]) == {"X-Total-Count", "Link"}
    assert {"limit", "offset", "status_filter"} <= {parameter["name"] for parameter in guide["parameters"]}


def test_openapi_documents_the_guides_receipts_and_error_envelope(schema):
    start = next(operation for path, item in schema["paths"].items() if path.startswith("/migrations/{")
                 and path.rstrip("/").endswith("/start") for operation in item.values())

    assert start["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/MigrationReceipt")
    assert start["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/GuideErrorEnvelope")


def test_a_malformed_session_id_is_migration_not_found_too(guide_client):
    response = guide_client.post("/migrations/not-a-session/start", format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "MIGRATION_NOT_FOUND")
    assert response.json()["error"]["details"] == {"session_id": "not-a-session"}
