"""`migrations_settings`: TESSERA_MIGRATIONS, where the deployment lets migrations go, with the defaults.

Data the platform writes at run time lives under the deployment's DATA_DIR, never in the code tree, so the
default roots are derived from it when the settings are read.
"""
from pathlib import Path

from django.conf import settings

from apps.api.conf import AppSettings
from apps.platform.encryption import key_problem


def default_roots() -> list[str]:
    return [str(Path(settings.DATA_DIR) / "migrations")]


def default_backup_root() -> str:
    return str(Path(settings.DATA_DIR) / "migration-backups")


migrations_settings = AppSettings("TESSERA_MIGRATIONS", check_id="migrations_app.E001", validators={
    "SECRETS_KEY": ("migrations_app.E002", key_problem),
}, defaults={
    # Where migrations may read and write files, and which database servers they may reach (a tenant may narrow
    # these). Database entries are host:port, or host:port/database to allow one database only; an entry without
    # a port (the older shape) allows the engine's standard port. The platform's own databases, Redis and files
    # are refused whatever these lists say.
    "ALLOWED_ROOTS": default_roots,
    "ALLOWED_DB_HOSTS": ["127.0.0.1:5432", "127.0.0.1:3306"],
    # host:port servers a migration may log in to without a password, or whose password the server does not
    # check (trust or peer authentication). Empty by default: every login must prove a password.
    "ALLOW_PASSWORDLESS": [],
    # Where backups taken before a migration overwrites files are kept (created 0700 on first use).
    "BACKUP_ROOT": default_backup_root,
    # Key that encrypts credentials stored in migration configs; empty: one derived from SECRET_KEY.
    "SECRETS_KEY": "",
})
