"""Attacks on what a migration may reach: the platform's own stores, ports the allow-list does not name,
password-less logins, the server's own error text, unknown and NUL-laden config keys, and where backups go.

The platform's own stores (its databases, its Redis, its files) are refused whatever the allow-lists say, at
validation, at creation and again where the connection is made.
"""
import stat
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.migrations_app import pipeline
from apps.migrations_app.adapters.confinement import Endpoint
from apps.migrations_app.adapters.databases import DatabaseError
from apps.migrations_app.conf import default_backup_root, default_roots, migrations_settings
from apps.migrations_app.config import adapter_for
from apps.migrations_app.models import MigrationRun, Preset
from apps.tenants.services import tenant_policies_set

from .conftest import HOST, LOCAL_SERVERS, build_tree, mysql_config, postgresql_config, wait_until

needs_postgresql_platform = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the platform's own database is PostgreSQL only with DATABASE_URL")


def platform_database() -> str:
    """The name of the database this very test process runs on."""
    return connection.settings_dict["NAME"]


def error_fields(response) -> set[str]:
    return set(response.json()["error"]["details"])


@pytest.fixture
def member_key_client(second_user, tenant):
    """A plain member of the tenant, through an API key holding everything a member may hold."""
    key = api_key_create(user=second_user, name="member", scopes=sorted(role_scopes(second_user.role)),
                         allowed=role_scopes(second_user.role))
    return TenantAPIClient(tenant=tenant).with_api_key(key.secret)


@pytest.fixture
def probed_deployment(allowed, settings):
    """The deployment the probe found: loopback allowed by host name alone (the older shape), and the local
    server trusted without passwords."""
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": ["127.0.0.1", "localhost"],
                                   "ALLOW_PASSWORDLESS": LOCAL_SERVERS}
    return allowed


# --- The platform's own databases ----------------------------------------------------------------------------------

@needs_postgresql_platform
@pytest.mark.parametrize("side", ["source", "destination"])
def test_the_probe_aiming_a_migration_at_the_platforms_own_database_is_refused(
        member_key_client, probed_deployment, scratch_postgresql, side):
    other = "destination" if side == "source" else "source"
    plan = {side: {"type": "postgresql", "host": "127.0.0.1", "database": platform_database(), "username": "postgres"},
            other: postgresql_config(scratch_postgresql())}

    response = member_key_client.post("/api/v1/validate/", plan, format="json")

    assert response.status_code == 400, response.content
    assert error_fields(response) == {f"{side}.database"}
    assert "platform's own database" in response.json()["error"]["details"][f"{side}.database"][0]
    assert "accounts_user" not in response.content.decode()


@needs_postgresql_platform
@pytest.mark.parametrize("host", ["localhost", "[::1]", "0.0.0.0", "127.0.0.2"])
def test_every_spelling_of_this_machine_is_the_same_server(user_client, allowed, settings, host):
    bare = host.strip("[]")
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": [f"{host}:5432"],
                                   "ALLOW_PASSWORDLESS": [f"{host}:5432"]}

    response = user_client.post("/api/v1/migrations/", {
        "name": "Own", "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": {**postgresql_config(platform_database().upper()), "host": bare}}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.database"}
    assert not MigrationRun.objects.exists()


@needs_postgresql_platform
def test_a_stored_run_aimed_at_the_platforms_database_is_refused_where_the_connection_is_made(allowed):
    """Defence in depth: a config that got past validation (stored earlier, settings changed since) still
    cannot connect, and the run stops at its checks before anything is backed up or copied."""
    destination = adapter_for(postgresql_config(platform_database()))

    with pytest.raises(DatabaseError, match="platform's own database"):
        destination.open(role="destination")
    with pytest.raises(pipeline.ChecksFailed, match="platform's own database"):
        pipeline.execute({"source": postgresql_config("postgres"), "destination": postgresql_config(platform_database()),
                        "safety": {"backup_before": True}}, report=lambda *a, **k: None, log=lambda *a, **k: None,
                       backup_id="attack")


@needs_postgresql_platform
def test_a_stored_run_aimed_at_the_platforms_database_fails_in_the_worker_and_touches_nothing(
        workers, user, tenant, user_client, scratch_postgresql):
    """The start's checks refuse it, and the worker checks again: a run row that never went through validation,
    started where no one waits for a 422 (as the scheduler and batches start), still cannot reach the platform."""
    from apps.migrations_app.services import migration_start

    run = MigrationRun.objects.create(tenant=tenant, created_by=user, name="Smuggled",
                                      source=postgresql_config(scratch_postgresql()),
                                      destination=postgresql_config(platform_database()))
    tables_before = set(connection.introspection.table_names())

    refused = user_client.post(f"/api/v1/migrations/{run.session_id}/start")
    migration_start(run, started_by=user, check=False)
    outcome = wait_until(user_client, run.session_id)

    assert refused.status_code == 422
    failed = {check["check"]: check["error"] for check in refused.json()["error"]["details"]["failed_checks"]}
    assert "platform's own database" in failed["destination_connectivity"], failed
    assert outcome["status"] == "failed"
    assert "platform's own database" in outcome["error"]
    assert set(connection.introspection.table_names()) == tables_before


def test_the_platforms_redis_is_refused_even_when_its_port_is_allowed(user_client, allowed, settings):
    redis_port = 6379
    settings.REDIS_URL = f"redis://{HOST}:{redis_port}/3"
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": [f"{HOST}:{redis_port}"],
                                   "ALLOW_PASSWORDLESS": [f"{HOST}:{redis_port}"]}

    response = user_client.post("/api/v1/validate/", {
        "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": {**mysql_config("anything"), "port": redis_port}}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.port"}
    assert "Redis" in response.json()["error"]["details"]["destination.port"][0]


@pytest.mark.parametrize("make_path", [
    lambda: Path(django_settings.BASE_DIR) / "apps",
    lambda: Path(django_settings.BASE_DIR),
    lambda: Path(migrations_settings.BACKUP_ROOT),
    lambda: Path(migrations_settings.BACKUP_ROOT).parent,   # a tree holding the backups
])
def test_the_code_tree_and_the_backups_are_refused_even_inside_an_allowed_root(user_client, allowed, settings,
                                                                               make_path):
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_ROOTS": ["/"]}

    response = user_client.post("/api/v1/migrations/", {
        "name": "Own files", "source": {"type": "directory", "path": str(make_path())},
        "destination": {"type": "directory", "path": str(allowed / "copy")}}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"source.path"}
    assert "platform's own files" in response.json()["error"]["details"]["source.path"][0]


# --- Allow-lists name host and port, and a tenant only narrows them ------------------------------------------------

def test_a_port_the_allow_list_does_not_name_is_refused_without_connecting(user_client, allowed):
    response = user_client.post("/api/v1/validate/", {
        "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": {**postgresql_config("x"), "port": 22}}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.port"}
    assert "refused" not in response.content.decode().lower()


def test_an_entry_naming_a_database_allows_that_database_only(user_client, allowed, settings):
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": [f"{HOST}:5432/reports"]}
    plan = {"name": "Pinned", "source": {"type": "sqlite", "path": "app.sqlite3"}}

    other = user_client.post("/api/v1/migrations/", {**plan, "destination": postgresql_config("payroll")},
                             format="json")
    pinned = user_client.post("/api/v1/migrations/", {**plan, "destination": postgresql_config("reports")},
                              format="json")

    assert other.status_code == 400 and error_fields(other) == {"destination.database"}
    assert pinned.status_code == 201, pinned.content


def test_a_tenant_list_cannot_widen_the_deployments(user_client, tenant, allowed):
    tenant_policies_set(tenant=tenant, migration_db_hosts=[f"{HOST}:5432", "db.example.com:5432", f"{HOST}:6543"])
    plan = {"name": "Widen", "source": {"type": "sqlite", "path": "app.sqlite3"}}

    outside = user_client.post("/api/v1/migrations/", {**plan, "destination": {
        **postgresql_config("x"), "host": "db.example.com"}}, format="json")
    other_port = user_client.post("/api/v1/migrations/", {**plan, "destination": {
        **postgresql_config("x"), "port": 6543}}, format="json")
    both = user_client.post("/api/v1/migrations/", {**plan, "destination": postgresql_config("x")}, format="json")

    assert outside.status_code == 400 and error_fields(outside) == {"destination.host"}
    assert other_port.status_code == 400 and error_fields(other_port) == {"destination.port"}
    assert both.status_code == 201, both.content


@pytest.mark.parametrize("entry, endpoint", [
    ("127.0.0.1:5432", Endpoint("127.0.0.1", 5432)),
    ("db.internal:3306/shop", Endpoint("db.internal", 3306, "shop")),
    ("[::1]:5432/reports", Endpoint("::1", 5432, "reports")),
    ("LOCALHOST", Endpoint("localhost")),
    ("/run/postgresql:5432", Endpoint("/run/postgresql", 5432)),
    ("127.0.0.1:port", None), ("127.0.0.1:5432/", None), (":5432", None), ("[::1", None),
])
def test_allow_list_entries_read_as_host_port_and_database(entry, endpoint):
    assert Endpoint.parse(entry) == endpoint


def test_an_entry_without_a_port_allows_the_engines_standard_port_only(user_client, allowed, settings):
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": [HOST]}
    plan = {"name": "Bare host", "source": {"type": "sqlite", "path": "app.sqlite3"}}

    standard = user_client.post("/api/v1/migrations/", {**plan, "destination": mysql_config("shop")}, format="json")
    other = user_client.post("/api/v1/migrations/", {**plan, "destination": {**mysql_config("shop"), "port": 3307}},
                             format="json")

    assert standard.status_code == 201, standard.content
    assert other.status_code == 400 and error_fields(other) == {"destination.port"}


# --- Password-less logins --------------------------------------------------------------------------------------

def test_a_login_without_a_password_is_refused_unless_the_operator_allows_that_server(user_client, allowed,
                                                                                      settings):
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOW_PASSWORDLESS": [f"{HOST}:3306"]}

    response = user_client.post("/api/v1/migrations/", {
        "name": "No password", "source": {"type": "sqlite", "path": "app.sqlite3"},
        "destination": postgresql_config("x")}, format="json")

    assert response.status_code == 400 and error_fields(response) == {"destination.password"}


def test_a_made_up_password_to_a_server_that_checks_none_is_refused(user_client, allowed, settings,
                                                                     scratch_postgresql):
    """The local PostgreSQL trusts loopback: any password gets in, so giving one proves nothing."""
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOW_PASSWORDLESS": []}

    response = user_client.post("/api/v1/validate/", {
        "source": postgresql_config(scratch_postgresql(), password="anything"),
        "destination": postgresql_config(scratch_postgresql(), password="anything")}, format="json")

    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert any("without checking the password" in error for error in response.json()["errors"])


# --- Reachability in our own words -------------------------------------------------------------------------------

@pytest.mark.parametrize("destination, reason", [
    (postgresql_config("tessera_mig_missing"), "database does not exist"),
    (postgresql_config("postgres", username="nobody_at_all"), "authentication failed"),
    ({**postgresql_config("postgres"), "port": 5999}, "could not connect"),
    (mysql_config("tessera_mig_missing"), "database does not exist"),
    (mysql_config("mysql", username="nobody_at_all"), "authentication failed"),
])
def test_a_failed_connection_is_told_in_fixed_words_without_the_servers_text(user_client, allowed, settings,
                                                                              destination, reason):
    servers = [*LOCAL_SERVERS, f"{HOST}:5999"]
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "ALLOWED_DB_HOSTS": servers,
                                   "ALLOW_PASSWORDLESS": servers}

    response = user_client.post("/api/v1/validate/", {"source": {"type": "sqlite", "path": "app.sqlite3"},
                                                      "destination": destination}, format="json")

    body = response.content.decode()
    assert response.status_code == 200 and response.json()["valid"] is False
    assert any(error.endswith(f": {reason}.") for error in response.json()["errors"]), body
    for server_text in ("FATAL", "refused", "Unknown database", "Access denied", "nobody_at_all'@", "Errno"):
        assert server_text not in body


# --- Unknown keys and NUL in configs and presets -------------------------------------------------------------------

@pytest.mark.parametrize("plan, field", [
    ({"source": {"type": "directory", "path": "in", "follow": "/etc"}}, "source.follow"),
    ({"destination": {**postgresql_config("x"), "sslrootcert": "/etc/passwd"}}, "destination.sslrootcert"),
    ({"transfer": {"options": {"tables": ["a"], "where": "1=1"}}}, "transfer.options.where"),
    ({"safety": {"backup_before": True, "skip_checks": True}}, "safety.skip_checks"),
])
def test_a_config_key_no_adapter_declares_is_400_naming_it(user_client, allowed, plan, field):
    base = {"source": {"type": "directory", "path": "in"}, "destination": {"type": "directory", "path": "out"}}
    if "destination" in plan:
        base["source"] = {"type": "sqlite", "path": "app.sqlite3"}

    response = user_client.post("/api/v1/migrations/", {"name": "Extra", **base, **plan}, format="json")

    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not MigrationRun.objects.exists()


@pytest.mark.parametrize("config, field", [
    ({"source": {"type": "directory", "path": "in"}, "destination": {"type": "directory", "path": "out"},
      "notes": "kept raw"}, "config_template.notes"),
    ({"source": {"type": "directory", "path": "in", "note\u0000": "x"},
      "destination": {"type": "directory", "path": "out"}}, "config_template.source.note\\u0000"),
    ({"source": {"type": "directory", "path": "in"},
      "destination": {"type": "directory", "path": "out\u0000"}}, "config_template.destination.path"),
    ({"source": {"type": "postgresql", "host": "127.0.0.1", "database": "a\u0000b", "username": "u"},
      "destination": {"type": "postgresql", "host": "127.0.0.1", "database": "c", "username": "u"}},
     "config_template.source.database"),
])
def test_a_preset_with_an_unknown_key_or_a_nul_is_400_naming_the_field(user_client, allowed, config, field):
    response = user_client.post("/api/v1/presets/", {"slug": "odd", "name": "Odd", "config_template": config}, format="json")

    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not Preset.objects.filter(slug="odd").exists()


# --- Backups -------------------------------------------------------------------------------------------------------

def test_backups_default_outside_the_code_tree():
    """The defaults apply whatever this environment sets (apps/migrations_app/conf.py derives them from DATA_DIR)."""
    backup_root = Path(default_backup_root()).resolve()
    base_dir = Path(django_settings.BASE_DIR).resolve()
    assert base_dir not in backup_root.parents and backup_root != base_dir
    assert all(base_dir not in Path(root).resolve().parents for root in default_roots())


def test_a_backup_is_kept_in_directories_only_the_platform_user_can_open(allowed, tmp_path, settings):
    backup_root = tmp_path / "fresh" / "backups"
    settings.TESSERA_MIGRATIONS = {**settings.TESSERA_MIGRATIONS, "BACKUP_ROOT": str(backup_root)}
    build_tree(allowed / "in", files=3)
    build_tree(allowed / "out", files=3)

    pipeline.execute({"source": {"type": "directory", "path": str(allowed / "in")},
                    "destination": {"type": "directory", "path": str(allowed / "out")},
                    "safety": {"backup_before": True}}, report=lambda *a, **k: None, log=lambda *a, **k: None,
                   backup_id="private")

    for directory in (backup_root.parent, backup_root, backup_root / "private", backup_root / "private" / "main"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
