"""Presets: the six built-ins shipped as data (read-only), each tenant's own, and migrations made from them."""
import pytest

from apps.migrations_app.models import MigrationRun, Preset
from tests.conftest import CANARY

from .conftest import SECRET, build_tree

BUILTIN = {"directory-sync", "sqlite-to-postgresql", "mysql-to-postgresql", "postgresql-to-postgresql",
           "static-site", "django-site"}


@pytest.fixture
def own_preset(tenant, user, allowed):
    return Preset.objects.create(tenant=tenant, created_by=user, slug="nightly", name="Nightly copy", config_template={
        "source": {"type": "directory", "path": "source"}, "destination": {"type": "directory", "path": "copy"}})


@pytest.fixture
def other_tenant_preset(other_tenant):
    return Preset.objects.create(tenant=other_tenant, slug="globex", name=f"Globex {CANARY}", config_template={})


def builtin(slug) -> Preset:
    return Preset.objects.get(tenant=None, slug=slug)


def test_the_list_holds_the_builtins_and_the_tenants_own_only(user_client, own_preset, other_tenant_preset):
    response = user_client.get("/api/v1/presets/", {"page_size": 50})

    slugs = {item["id"]: item["custom"] for item in response.json()["results"]}
    assert response.status_code == 200
    assert slugs == {**{slug: False for slug in BUILTIN}, "nightly": True}
    assert CANARY not in response.content.decode()


def test_another_tenants_preset_is_404(user_client, other_tenant_preset):
    assert user_client.get(f"/api/v1/presets/{other_tenant_preset.slug}/").status_code == 404


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_builtin_presets_are_read_only(user_client, method):
    preset = builtin("directory-sync")

    response = getattr(user_client, method)(f"/api/v1/presets/{preset.slug}/", {
        "name": "Mine now", "slug": "x", "config_template": preset.config_template}, format="json")

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert builtin("directory-sync").name == "Directory sync"


def test_a_tenant_creates_changes_and_deletes_its_own_preset(user_client, tenant, allowed):
    config = {"source": {"type": "directory", "path": "in"}, "destination": {"type": "directory", "path": "out"}}

    created = user_client.post("/api/v1/presets/", {"slug": "mine", "name": "Mine", "config_template": config},
                               format="json")
    changed = user_client.patch("/api/v1/presets/mine/", {"name": "Still mine"}, format="json")
    deleted = user_client.delete("/api/v1/presets/mine/")

    assert created.status_code == 201, created.content
    assert created.json()["custom"] is True and created.json()["id"] == "mine"
    assert (created.json()["source_types"], created.json()["destination_types"]) == (["directory"], ["directory"])
    assert changed.status_code == 200 and changed.json()["name"] == "Still mine"
    assert deleted.status_code == 204 and not Preset.objects.filter(tenant=tenant).exists()


def test_a_preset_never_stores_credentials(user_client, tenant, allowed):
    config = {"source": {"type": "sqlite", "path": "app.sqlite3"},
              "destination": {"type": "postgresql", "host": "127.0.0.1", "database": "app", "username": "postgres",
                              "password": SECRET}}

    response = user_client.post("/api/v1/presets/", {"slug": "db", "name": "DB", "config_template": config}, format="json")

    assert response.status_code == 201
    assert SECRET not in response.content.decode()
    assert "password" not in Preset.objects.get(tenant=tenant).config_template["destination"]


def test_a_preset_with_a_bad_config_is_400_naming_the_field(user_client, allowed):
    response = user_client.post("/api/v1/presets/", {"slug": "bad", "name": "Bad", "config_template": {
        "source": {"type": "directory", "path": "/etc"}, "destination": {"type": "directory", "path": "x"}}},
        format="json")

    assert response.status_code == 400 and set(response.json()["error"]["details"]) == {"source.path"}


def test_a_builtin_preset_with_only_non_path_overrides_makes_a_runnable_migration(user_client, allowed):
    build_tree(allowed / "source", files=2)

    response = user_client.post(f"/api/v1/presets/{builtin('directory-sync').slug}/create-migration",
                                {"overrides": {"transfer.options.parallel_transfers": 2}}, format="json")
    report = user_client.post("/api/v1/migrations/validate", {
        key: response.json()[key] for key in ("source", "destination", "transfer", "safety")}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["name"] == "Directory sync"
    assert body["source"]["path"] == str(allowed / "source")
    assert body["destination"]["path"] == str(allowed / "destination")
    assert body["transfer"]["options"]["parallel_transfers"] == 2
    assert report.json()["can_proceed"] is True


def test_create_migration_applies_dotted_overrides_and_keeps_secrets_out(user_client, allowed):
    response = user_client.post(f"/api/v1/presets/{builtin('sqlite-to-postgresql').slug}/create-migration", {
        "name": "Our app", "overrides": {"source.path": str(allowed / "our.sqlite3"),
                                         "destination.database": "ours", "destination.password": SECRET}},
        format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Our app" and body["source"]["path"] == str(allowed / "our.sqlite3")
    assert body["destination"]["database"] == "ours"
    assert SECRET not in response.content.decode()
    assert SECRET not in MigrationRun.objects.get().secrets


@pytest.mark.parametrize("overrides, field", [
    ({"source.path": "../../etc"}, "source.path"),
    ({"destination.host": "db.example.com"}, "destination.host"),
    ({"transfer.options.parallel_transfers": 0}, "transfer.options.parallel_transfers"),
    ({"source.type.deeper": "x"}, "overrides.source.type.deeper"),
])
def test_an_override_that_makes_the_config_invalid_is_400_naming_the_field(user_client, allowed, overrides, field):
    response = user_client.post(f"/api/v1/presets/{builtin('sqlite-to-postgresql').slug}/create-migration",
                                {"overrides": overrides}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not MigrationRun.objects.exists()


def test_a_viewer_cannot_create_a_migration_from_a_preset(viewer_client, allowed):
    response = viewer_client.post(f"/api/v1/presets/{builtin('directory-sync').slug}/create-migration", {},
                                  format="json")

    assert response.status_code == 403
    assert not MigrationRun.objects.exists()


def test_the_builtin_presets_all_validate_inside_the_allowed_root(db, allowed):
    from apps.migrations_app import templates
    from apps.migrations_app.config import validate_config

    for preset in Preset.objects.filter(tenant=None):
        config = templates.render(preset.config_template, templates.variable_values(preset.variables, {}))
        validated = validate_config(**config)
        assert [validated["source"]["type"]] == preset.source_types, preset.slug
        assert [validated["destination"]["type"]] == preset.destination_types, preset.slug


# --- Templates with {{variables}} (the guide's presets) -------------------------------------------------------------

TEMPLATE = {"source": {"type": "directory", "path": "{{site}}/current"},
            "destination": {"type": "directory", "path": "{{site}}/next"},
            "transfer": {"options": {"parallel_transfers": "{{workers}}"}},
            "safety": {"backup_before": "{{backup}}"}}
VARIABLES = [{"name": "site", "type": "string", "required": True},
             {"name": "workers", "type": "integer", "default": 2},
             {"name": "backup", "type": "boolean", "default": True}]


@pytest.fixture
def templated(user_client, allowed):
    response = user_client.post("/api/v1/presets/", {"slug": "site-move", "name": "Site move",
                                                     "config_template": TEMPLATE, "variables": VARIABLES,
                                                     "source_types": ["directory"]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_preset_is_read_by_slug_with_its_template_variables_and_types(user_client, templated):
    response = user_client.get("/api/v1/presets/site-move/")

    body = response.json()
    assert response.status_code == 200 and body["id"] == "site-move" and body["custom"] is True
    assert body["config_template"] == TEMPLATE
    assert body["variables"] == [{"name": "site", "type": "string", "required": True},
                                 {"name": "workers", "type": "integer", "required": False, "default": 2},
                                 {"name": "backup", "type": "boolean", "required": False, "default": True}]
    assert (body["source_types"], body["destination_types"]) == (["directory"], ["directory"])
    assert user_client.get("/api/v1/presets/directory-sync/").json()["custom"] is False


def test_create_migration_fills_the_variables_typed_then_applies_overrides(user_client, templated, allowed):
    response = user_client.post("/api/v1/presets/site-move/create-migration", {
        "variables": {"site": str(allowed), "workers": 3},
        "overrides": {"destination.path": str(allowed / "elsewhere")}}, format="json")

    body = response.json()
    assert response.status_code == 201, response.content
    assert body["source"]["path"] == f"{allowed}/current"
    assert body["destination"]["path"] == str(allowed / "elsewhere")
    assert body["transfer"]["options"]["parallel_transfers"] == 3
    assert body["safety"]["backup_before"] is True


@pytest.mark.parametrize("variables, field, words", [
    ({}, "variables.site", "Required"),
    ({"site": 7}, "variables.site", "Must be a string"),
    ({"site": "x", "workers": "three"}, "variables.workers", "Must be a integer"),
    ({"site": "x", "workers": True}, "variables.workers", "Must be a integer"),
    ({"site": "x", "colour": "red"}, "variables.colour", "Not a variable"),
])
def test_a_missing_mistyped_or_unknown_variable_is_400_naming_it(user_client, templated, variables, field, words):
    response = user_client.post("/api/v1/presets/site-move/create-migration", {"variables": variables},
                                format="json")

    assert response.status_code == 400
    assert words in response.json()["error"]["details"][field][0]
    assert not MigrationRun.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"config_template": {**TEMPLATE, "source": {"type": "directory", "path": "{{nowhere}}"}}},
     "config_template.source.path"),
    ({"variables": [*VARIABLES[:2], {"name": "backup", "type": "date"}]}, "variables.2.type"),
    ({"variables": [*VARIABLES, {"name": "workers", "type": "integer", "default": "four"}]}, "variables.3.name"),
    ({"variables": [{**VARIABLES[1], "default": "four"}, VARIABLES[0], VARIABLES[2]]}, "variables.0.default"),
    ({"source_types": ["wordpress"]}, "source_types"),
    ({"slug": "directory-sync"}, "slug"),
    ({"custom": False}, "custom"),
])
def test_a_preset_with_an_undeclared_or_bad_variable_is_400_naming_it(user_client, allowed, body, field):
    response = user_client.post("/api/v1/presets/", {"slug": "bad", "name": "Bad", "config_template": TEMPLATE,
                                                     "variables": VARIABLES, **body}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not Preset.objects.exclude(tenant=None).exists()
