"""Every TESSERA_* namespace: defaults in the owning app's conf.py, overrides from settings, typos caught by check."""
from pathlib import Path

import pytest
from django.core import checks

from apps.accounts.conf import accounts_settings
from apps.api.conf import AppSettings, api_settings
from apps.jobs.conf import jobs_settings
from apps.migrations_app.conf import migrations_settings

NAMESPACES = [
    (api_settings, "PAGE_SIZE", "api.E021"),
    (jobs_settings, "STALE_AFTER_SECONDS", "jobs.E010"),
    (migrations_settings, "ALLOWED_DB_HOSTS", "migrations_app.E001"),
    (accounts_settings, "SOCKET_TICKET_SECONDS", "accounts.E001"),
]


@pytest.mark.parametrize("namespace, key, check_id", NAMESPACES)
def test_a_key_the_deployment_leaves_out_has_its_default(settings, namespace, key, check_id):
    overrides = {name: value for name, value in getattr(settings, namespace.setting_name).items() if name != key}
    setattr(settings, namespace.setting_name, overrides)

    assert getattr(namespace, key) == namespace.defaults[key]


@pytest.mark.parametrize("namespace, key, check_id", NAMESPACES)
def test_an_override_is_seen_without_a_restart(settings, namespace, key, check_id):
    setattr(settings, namespace.setting_name, {**getattr(settings, namespace.setting_name), key: [7]})

    assert getattr(namespace, key) == [7]


@pytest.mark.parametrize("namespace, key, check_id", NAMESPACES)
def test_an_unknown_key_fails_the_system_checks_with_a_hint(settings, namespace, key, check_id):
    setattr(settings, namespace.setting_name, {**getattr(settings, namespace.setting_name), "STALE_AFTER_SECOND": 5})

    errors = [error for error in checks.run_checks() if error.id == check_id]

    assert len(errors) == 1 and isinstance(errors[0], checks.Error)
    assert "STALE_AFTER_SECOND" in errors[0].msg and namespace.setting_name in errors[0].msg
    assert key in errors[0].hint


def test_the_project_settings_pass_every_namespace_check():
    ids = {check_id for _namespace, _key, check_id in NAMESPACES}

    assert [error for error in checks.run_checks() if error.id in ids] == []


def test_reading_a_key_no_namespace_defines_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Unknown TESSERA_JOBS setting 'STALE_AFTER'"):
        jobs_settings.STALE_AFTER  # noqa: B018


def test_a_default_derived_from_another_setting_follows_it(settings, tmp_path):
    settings.TESSERA_MIGRATIONS = {}
    settings.DATA_DIR = tmp_path

    assert migrations_settings.ALLOWED_ROOTS == [str(tmp_path / "migrations")]
    assert Path(migrations_settings.BACKUP_ROOT) == tmp_path / "migration-backups"


def test_a_namespace_the_settings_do_not_define_reads_as_its_defaults():
    namespace = AppSettings("TESSERA_NOT_CONFIGURED", defaults={"LIMIT": 3}, check_id="tests.E001")

    assert namespace.LIMIT == 3
    assert namespace.check() == []
