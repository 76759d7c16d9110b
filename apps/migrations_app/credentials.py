"""Credentials in migration configs: split out of the config, stored encrypted, and redacted in every output."""
import json

from apps.platform import encryption

from .conf import migrations_settings

REDACTED = "[redacted]"
#: Config keys that are credentials in any adapter's config.
SECRET_KEYS = ("password", "secret", "token", "api_key")
#: Names the key derived from SECRET_KEY when no SECRETS_KEY is configured (apps/platform/encryption.py).
PURPOSE = "tessera-migration-secrets"


def split_secrets(config: dict) -> tuple[dict, dict]:
    """(config as stored and shown, {path: value} of its credentials) for one side of a migration.

    Credentials are replaced by [redacted] in the stored config, at any depth (site kinds nest a files part
    and a database part), and returned separately, keyed by their dotted path inside the side.
    """
    public, hidden = {}, {}
    for key, value in config.items():
        if isinstance(value, dict):
            public[key], nested = split_secrets(value)
            hidden.update({f"{key}.{path}": secret for path, secret in nested.items()})
        elif key in SECRET_KEYS and value not in (None, ""):
            public[key], hidden[key] = REDACTED, value
        else:
            public[key] = value
    return public, hidden


def merge_secrets(config: dict, secrets: dict) -> dict:
    """The config with its credentials put back (for the pipeline only; never stored or returned)."""
    merged = json.loads(json.dumps(config))
    for path, value in secrets.items():
        *parents, key = path.split(".")
        node = merged
        for parent in parents:
            node = node[parent]
        node[key] = value
    return merged


def seal(secrets_by_side: dict) -> str:
    """Encrypt {"source": {...}, "destination": {...}} for the database column."""
    if not any(secrets_by_side.values()):
        return ""
    return encryption.seal(json.dumps(secrets_by_side), key=migrations_settings.SECRETS_KEY, purpose=PURPOSE)


def unseal(token: str) -> dict:
    return json.loads(encryption.unseal(token, key=migrations_settings.SECRETS_KEY, purpose=PURPOSE)) if token else {}
