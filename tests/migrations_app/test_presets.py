"""Presets: the six built-ins shipped as data (read-only), each tenant's own, and migrations made from them."""
import pytest

from apps.migrations_app.models import MigrationRun, Preset
from tests.conftest import CANARY

from .conftest import SECRET, build_tree

BUILTIN = {"directory-sync", "sqlite-to-postgresql", "mysql-to-postgresql", "postgresql-to-postgresql",
           "static-site", "django-site"}


@pytest.fixture
def own_preset(tenant, user, allowed):
    return Preset.objects.create(tenant=tenant, created_by=user, slug="nightly", name="Nightly copy", config={
        "source": {"type": "directory", "path": "source"}, "destination": {"type": "directory", "path": "copy"}})


@pytest.fixture
def other_tenant_preset(other_tenant):
    return Preset.objects.create(tenant=other_tenant, slug="globex", name=f"Globex {CANARY}", config={})


def builtin(slug) -> Preset:
    return Preset.objects.get(tenant=None, slug=slug)


def test_the_list_holds_the_builtins_and_the_tenants_own_only(user_client, own_preset, other_tenant_preset):
    response = user_client.get("/api/v1/presets/", {"page_size": 50})

    slugs = {item["slug"]: item["is_builtin"] for item in response.json()["results"]}
    assert response.status_code == 200
    assert slugs == {**{slug: True for slug in BUILTIN}, "nightly": False}
    assert CANARY not in response.content.decode()


def test_another_tenants_preset_is_404(user_client, other_tenant_preset):
    assert user_client.get(f"/api/v1/presets/{other_tenant_preset.pk}/").status_code == 404


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_builtin_presets_are_read_only(user_client, method):
    preset = builtin("directory-sync")

    response = getattr(user_client, method)(f"/api/v1/presets/{preset.pk}/", {"name": "Mine now", "slug": "x",
                                                                               "config": preset.config},
                                             format="json")

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert builtin("directory-sync").name == "Directory sync"


def test_a_tenant_creates_changes_and_deletes_its_own_preset(user_client, tenant, allowed):
    config = {"source": {"type": "directory", "path": "in"}, "destination": {"type": "directory", "path": "out"}}

    created = user_client.post("/api/v1/presets/", {"slug": "mine", "name": "Mine", "config": config},
                               format="json")
    changed = user_client.patch(f"/api/v1/presets/{created.json()['id']}/", {"name": "Still mine"}, format="json")
    deleted = user_client.delete(f"/api/v1/presets/{created.json()['id']}/")

    assert created.status_code == 201, created.content
    assert created.json()["is_builtin"] is False
    assert changed.status_code == 200 and changed.json()["name"] == "Still mine"
    assert deleted.status_code == 204 and not Preset.objects.filter(tenant=tenant).exists()


def test_a_preset_never_stores_credentials(user_client, tenant, allowed):
    config = {"source": {"type": "sqlite", "path": "app.sqlite3"},
              "destination": {"type": "postgresql", "host": "127.0.0.1", "database": "app", "username": "postgres",
                              "password": SECRET}}

    response = user_client.post("/api/v1/presets/", {"slug": "db", "name": "DB", "config": config}, format="json")

    assert response.status_code == 201
    assert SECRET not in response.content.decode()
    assert "password" not in Preset.objects.get(tenant=tenant).config["destination"]


def test_a_preset_with_a_bad_config_is_400_naming_the_field(user_client, allowed):
    response = user_client.post("/api/v1/presets/", {"slug": "bad", "name": "Bad", "config": {
        "source": {"type": "directory", "path": "/etc"}, "destination": {"type": "directory", "path": "x"}}},
        format="json")

    assert response.status_code == 400 and set(response.json()["error"]["details"]) == {"source.path"}


def test_a_builtin_preset_with_only_non_path_overrides_makes_a_runnable_migration(user_client, allowed):
    build_tree(allowed / "source", files=2)

    response = user_client.post(f"/api/v1/presets/{builtin('directory-sync').pk}/create-migration",
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
    response = user_client.post(f"/api/v1/presets/{builtin('sqlite-to-postgresql').pk}/create-migration", {
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
    response = user_client.post(f"/api/v1/presets/{builtin('sqlite-to-postgresql').pk}/create-migration",
                                {"overrides": overrides}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not MigrationRun.objects.exists()


def test_a_viewer_cannot_create_a_migration_from_a_preset(viewer_client, allowed):
    response = viewer_client.post(f"/api/v1/presets/{builtin('directory-sync').pk}/create-migration", {},
                                  format="json")

    assert response.status_code == 403
    assert not MigrationRun.objects.exists()


def test_the_builtin_presets_all_validate_inside_the_allowed_root(db, allowed):
    from apps.migrations_app.config import validate_config

    for preset in Preset.objects.filter(tenant=None):
        validated = validate_config(**preset.config)
        assert validated["source"]["type"] == preset.config["source"]["type"], preset.slug
