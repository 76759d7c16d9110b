"""Migration templates (the guide's `POST /templates/`): a tenant's own presets under the guide's field names, at
/templates/ (the guide's envelope) and /api/v1/templates/ (Tessera's), with migrations made from them."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.migrations_app.models import MigrationRun, Preset
from tests.conftest import CANARY, client_for

from .conftest import SECRET, build_tree

pytestmark = pytest.mark.django_db

#: The guide's example body, with the types this deployment moves between (a directory to a directory).
GUIDE_BODY = {
    "name": "Directory to archive template",
    "description": "Standard copy of a site's files into the archive",
    "template": {"source": {"type": "directory", "path": "{{source_path}}"},
                 "destination": {"type": "directory", "path": "{{archive_root}}/{{site_name}}"}},
    "variables": [{"name": "source_path", "type": "string", "required": True},
                  {"name": "archive_root", "type": "string", "default": "archive"},
                  {"name": "site_name", "type": "string", "required": True}],
}


@pytest.fixture
def guide_client(user):
    """The guide's client sends no X-Tenant-ID: it acts in the caller's tenant."""
    return client_for(user)


@pytest.fixture
def template(guide_client, allowed) -> dict:
    response = guide_client.post("/templates/", GUIDE_BODY, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Create, read, list --------------------------------------------------------------------------------------------

def test_the_guides_template_body_creates_a_template_named_by_the_slug_of_its_name(guide_client, allowed):
    response = guide_client.post("/templates/", GUIDE_BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == body["slug"] == "directory-to-archive-template"
    assert (body["name"], body["description"], body["template"]) == (
        GUIDE_BODY["name"], GUIDE_BODY["description"], GUIDE_BODY["template"])
    assert body["variables"] == [{"name": "source_path", "type": "string", "required": True},
                                 {"name": "archive_root", "type": "string", "required": False, "default": "archive"},
                                 {"name": "site_name", "type": "string", "required": True}]
    assert (body["source_types"], body["destination_types"]) == (["directory"], ["directory"])


def test_a_template_is_one_of_the_tenants_presets(guide_client, template):
    as_preset = guide_client.get(f"/presets/{template['id']}")

    assert as_preset.status_code == 200
    assert as_preset.json()["custom"] is True
    assert as_preset.json()["config_template"] == template["template"]


def test_the_list_holds_the_tenants_templates_and_no_builtin_preset(guide_client, template, other_tenant):
    Preset.objects.create(tenant=other_tenant, slug="globex", name=f"Globex {CANARY}", config_template={})

    guide = guide_client.get("/templates/")
    tessera = guide_client.get("/api/v1/templates/")

    assert guide.status_code == tessera.status_code == 200
    assert [row["id"] for row in guide.json()] == [template["id"]]
    assert guide["X-Total-Count"] == "1"
    assert tessera.json()["count"] == 1 and tessera.json()["results"] == guide.json()
    assert CANARY not in guide.content.decode()


def test_one_template_is_read_by_its_id_on_both_surfaces(guide_client, template):
    guide = guide_client.get(f"/templates/{template['id']}")
    tessera = guide_client.get(f"/api/v1/templates/{template['id']}/")

    assert guide.status_code == tessera.status_code == 200
    assert guide.json() == tessera.json() == template


def test_a_builtin_preset_is_not_a_template(guide_client):
    response = guide_client.get("/templates/directory-sync")

    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_a_given_slug_is_kept_and_a_taken_name_gets_the_next_free_slug(guide_client, template):
    chosen = guide_client.post("/templates/", {**GUIDE_BODY, "slug": "archive"}, format="json")
    again = guide_client.post("/templates/", GUIDE_BODY, format="json")

    assert chosen.status_code == 201 and chosen.json()["id"] == "archive"
    assert again.status_code == 201 and again.json()["id"] == f"{template['id']}-2"


def test_a_slug_the_tenant_already_uses_is_a_conflict(guide_client, template):
    response = guide_client.post("/templates/", {**GUIDE_BODY, "slug": template["id"]}, format="json")

    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"
    assert response.json()["error"]["details"]["slug"]
    assert Preset.objects.exclude(tenant=None).count() == 1


def test_a_builtin_slug_is_400_naming_slug(guide_client, allowed):
    response = guide_client.post("/templates/", {**GUIDE_BODY, "slug": "directory-sync"}, format="json")

    assert response.status_code == 400 and "slug" in response.json()["error"]["details"]


# --- Change and delete ---------------------------------------------------------------------------------------------

def test_a_member_changes_and_deletes_a_teammates_template(second_user, template):
    teammate = client_for(second_user)

    changed = teammate.patch(f"/templates/{template['id']}", {"description": "Nightly"}, format="json")
    deleted = teammate.delete(f"/templates/{template['id']}")

    assert changed.status_code == 200 and changed.json()["description"] == "Nightly"
    assert deleted.status_code == 204
    assert not Preset.objects.exclude(tenant=None).exists()


def test_changing_the_template_checks_it_against_the_declared_variables(guide_client, template):
    response = guide_client.patch(f"/templates/{template['id']}", {"template": {
        "source": {"type": "directory", "path": "{{source_path}}"},
        "destination": {"type": "directory", "path": "{{archive_root}}"}}}, format="json")

    assert response.status_code == 400
    assert "site_name is declared but not used" in response.json()["error"]["details"]["variables.2.name"][0]
    assert Preset.objects.get(slug=template["id"]).config_template == GUIDE_BODY["template"]


# --- Who may do what -----------------------------------------------------------------------------------------------

def test_a_viewer_reads_templates_but_cannot_create_change_or_delete_them(viewer_client, template, allowed):
    read = viewer_client.get(f"/templates/{template['id']}")
    created = viewer_client.post("/templates/", {**GUIDE_BODY, "slug": "viewers"}, format="json")
    changed = viewer_client.patch(f"/templates/{template['id']}", {"name": "Mine"}, format="json")
    deleted = viewer_client.delete(f"/templates/{template['id']}")

    assert read.status_code == 200
    assert [response.status_code for response in (created, changed, deleted)] == [403, 403, 403]
    assert created.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert Preset.objects.exclude(tenant=None).count() == 1


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_tenants_template_is_404(other_tenant_client, template, method):
    response = getattr(other_tenant_client, method)(f"/templates/{template['id']}", {"name": "Ours"}, format="json")

    assert response.status_code == 404
    assert Preset.objects.get(slug=template["id"]).name == GUIDE_BODY["name"]


def test_anonymous_callers_are_told_how_to_authenticate(anon_client):
    response = anon_client.get("/templates/")

    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


# --- Validation: 400 naming the field, nothing written ---------------------------------------------------------------

@pytest.mark.parametrize("change, field", [
    ({"template": {**GUIDE_BODY["template"], "source": {"type": "directory", "path": "{{nowhere}}"}}},
     "template.source.path"),
    ({"variables": [*GUIDE_BODY["variables"], {"name": "unused", "type": "string"}]}, "variables.3.name"),
    ({"variables": [*GUIDE_BODY["variables"][:2], {"name": "site_name", "type": "date"}]}, "variables.2.type"),
    ({"variables": [{**GUIDE_BODY["variables"][1], "default": 7}, *GUIDE_BODY["variables"][::2]]},
     "variables.0.default"),
    ({"variables": [{**GUIDE_BODY["variables"][0], "required": "yes"}, *GUIDE_BODY["variables"][1:]]},
     "variables.0.required"),
    ({"variables": [{**GUIDE_BODY["variables"][0], "colour": "red"}, *GUIDE_BODY["variables"][1:]]},
     "variables.0.colour"),
    ({"variables": {"source_path": "string"}}, "variables"),
    ({"template": {**GUIDE_BODY["template"], "notifications": {}}}, "template.notifications"),
    ({"template": ["source"]}, "template"),
    ({"template": {**GUIDE_BODY["template"], "source": {"type": "wordpress", "host": "{{source_path}}"}}},
     "template.source.type"),
    ({"config_template": {}}, "config_template"),
    ({"custom": False}, "custom"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_template_is_400_naming_the_field(guide_client, allowed, change, field):
    response = guide_client.post("/templates/", {**GUIDE_BODY, **change}, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "INVALID_CONFIGURATION" and field in error["details"], error
    assert not Preset.objects.exclude(tenant=None).exists()


def test_a_template_without_placeholders_is_checked_as_a_config_now(guide_client, allowed):
    response = guide_client.post("/templates/", {"name": "Etc", "template": {
        "source": {"type": "directory", "path": "/etc"}, "destination": {"type": "directory", "path": "x"}}},
        format="json")

    assert response.status_code == 400 and "source.path" in response.json()["error"]["details"]


def test_the_api_v1_surface_answers_the_same_errors_in_its_own_envelope(user_client, allowed):
    response = user_client.post("/api/v1/templates/", {**GUIDE_BODY, "variables": GUIDE_BODY["variables"][:2]},
                                format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "template.destination.path" in response.json()["error"]["details"]


# --- Credentials -----------------------------------------------------------------------------------------------------

DATABASE_TEMPLATE = {"source": {"type": "sqlite", "path": "{{sqlite_path}}"},
                     "destination": {"type": "postgresql", "host": "127.0.0.1", "database": "app",
                                     "username": "postgres", "password": "{{db_password}}"}}
DATABASE_VARIABLES = [{"name": "sqlite_path", "type": "string", "required": True},
                      {"name": "db_password", "type": "string", "required": True}]


def test_a_credential_is_a_placeholder_filled_when_a_migration_is_made_and_kept_encrypted(guide_client, allowed):
    created = guide_client.post("/templates/", {"name": "Database", "template": DATABASE_TEMPLATE,
                                                "variables": DATABASE_VARIABLES}, format="json")
    migration = guide_client.post("/api/v1/templates/database/create-migration", {
        "variables": {"sqlite_path": str(allowed / "app.sqlite3"), "db_password": SECRET}}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["template"]["destination"]["password"] == "{{db_password}}"
    assert migration.status_code == 201, migration.content
    assert SECRET not in migration.content.decode()
    run = MigrationRun.objects.get()
    assert SECRET not in str(run.destination) and run.secrets and SECRET not in run.secrets


def test_a_credential_variable_may_not_have_a_default(guide_client, allowed):
    variables = [DATABASE_VARIABLES[0], {"name": "db_password", "type": "string", "default": SECRET}]

    response = guide_client.post("/templates/", {"name": "Database", "template": DATABASE_TEMPLATE,
                                                 "variables": variables}, format="json")

    assert response.status_code == 400 and "variables.1.default" in response.json()["error"]["details"]
    assert SECRET not in response.content.decode()
    assert not Preset.objects.exclude(tenant=None).exists()


def test_a_literal_credential_is_never_stored(guide_client, allowed):
    template = {**DATABASE_TEMPLATE, "destination": {**DATABASE_TEMPLATE["destination"], "password": SECRET}}

    response = guide_client.post("/templates/", {"name": "Database", "template": template,
                                                 "variables": DATABASE_VARIABLES[:1]}, format="json")

    assert response.status_code == 201, response.content
    assert SECRET not in response.content.decode()
    assert "password" not in Preset.objects.get(slug="database").config_template["destination"]


# --- Migrations from a template ------------------------------------------------------------------------------------

def test_create_migration_fills_the_variables_and_answers_the_guides_receipt(guide_client, template, allowed):
    build_tree(allowed / "site", files=2)

    response = guide_client.post(f"/templates/{template['id']}/create-migration", {
        "variables": {"source_path": str(allowed / "site"), "site_name": "blog",
                      "archive_root": str(allowed / "archive")},
        "overrides": {"safety.verify_after": True}, "name": "Blog to archive"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"session_id", "status", "message", "created_at"}
    assert body["message"] == f"Migration session created from template {template['id']}"
    run = MigrationRun.objects.get(session_id=body["session_id"])
    assert run.name == "Blog to archive" and run.source["path"] == str(allowed / "site")
    assert run.destination["path"] == str(allowed / "archive" / "blog") and run.safety["verify_after"] is True


@pytest.mark.parametrize("variables, field", [
    ({"site_name": "blog"}, "variables.source_path"),
    ({"source_path": "site", "site_name": 7}, "variables.site_name"),
    ({"source_path": "site", "site_name": "blog", "colour": "red"}, "variables.colour"),
])
def test_a_missing_mistyped_or_unknown_variable_is_400_naming_it(guide_client, template, variables, field):
    response = guide_client.post(f"/templates/{template['id']}/create-migration", {"variables": variables},
                                 format="json")

    assert response.status_code == 400 and field in response.json()["error"]["details"]
    assert not MigrationRun.objects.exists()


def test_a_viewer_cannot_create_a_migration_from_a_template(viewer_client, template):
    response = viewer_client.post(f"/templates/{template['id']}/create-migration", {
        "variables": {"source_path": "site", "site_name": "blog"}}, format="json")

    assert response.status_code == 403 and not MigrationRun.objects.exists()


def test_the_list_costs_the_same_queries_for_one_template_or_many(guide_client, template):
    for n in range(5):
        assert guide_client.post("/templates/", {**GUIDE_BODY, "slug": f"copy-{n}"}, format="json").status_code == 201

    with CaptureQueriesContext(connection) as many:
        assert len(guide_client.get("/templates/").json()) == 6
    Preset.objects.exclude(tenant=None).exclude(slug=template["id"]).delete()
    with CaptureQueriesContext(connection) as one:
        assert len(guide_client.get("/templates/").json()) == 1

    assert len(many) == len(one)
