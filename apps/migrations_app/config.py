"""Migration configs: typed validation with field-level errors (`source.path`), and the parts a config moves.

A side of a migration is either one adapter (`{"type": "postgresql", ...}`) or a site kind composed of
parts (`{"type": "django_site", "files": {"type": "directory", ...}, "database": {"type": "postgresql", ...}}`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps.api.errors import ValidationFailed
from apps.api.serializers import NULL_CHARACTER, NULL_CHARACTER_MESSAGE, null_character_paths

from .adapters.base import Adapter, StrictSerializer, Transfer
from .adapters.confinement import Confinement
from .adapters.registry import ADAPTERS, SITE_KINDS, TRANSFERS, adapter_types
from .conf import migrations_settings
from .protected import platform_stores
from .selectors import tenant_migration_limits

if TYPE_CHECKING:
    from apps.tenants.models import Tenant


UNSUPPORTED = "Unsupported by this deployment"


class OnlyTrue(serializers.BooleanField):
    """A switch this deployment always has on (`false` is refused, never silently ignored)."""

    def __init__(self, *, why: str, **kwargs: Any) -> None:
        self.why = why
        super().__init__(default=True, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if not super().to_internal_value(data):
            raise serializers.ValidationError(f"{UNSUPPORTED}: {self.why}")
        return True


class OnlyFalse(serializers.BooleanField):
    """A switch this deployment does not offer (`true` is refused, never silently ignored)."""

    def __init__(self, *, why: str, **kwargs: Any) -> None:
        self.why = why
        super().__init__(default=False, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if super().to_internal_value(data):
            raise serializers.ValidationError(f"{UNSUPPORTED}: {self.why}")
        return False


class ByteSizeField(serializers.Field):
    """A size as bytes (an integer) or as text with a unit: "10MB", "512 KiB" (powers of 1024)."""

    UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
             "MIB": 1 << 20}

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(data)) if isinstance(data, (int, str)) \
            and not isinstance(data, bool) else None
        if match is None or match.group(2).upper() not in self.UNITS:
            raise serializers.ValidationError('A size in bytes, or with a unit: "64KB", "10MB".')
        size = int(match.group(1)) * self.UNITS[match.group(2).upper()]
        if not self.min_value <= size <= self.max_value:
            raise serializers.ValidationError(f"Between {self.min_value // 1024} KB and "
                                              f"{self.max_value >> 20} MB.")
        return size

    def to_representation(self, value: int) -> int:
        return value


class TransferOptions(StrictSerializer):
    parallel_transfers = serializers.IntegerField(min_value=1, max_value=32, default=4,
                                                  help_text="Files copied at once.")
    chunk_size = ByteSizeField(min_value=64 << 10, max_value=64 << 20, default=1 << 20,
                               help_text='Bytes each file is read, hashed and written in: 1048576 or "10MB".')
    compression = serializers.BooleanField(default=False, help_text="Store the backups of files gzip-compressed.")
    resume_on_failure = OnlyTrue(why="a run always resumes: files already identical are skipped.")
    verify_checksums = OnlyTrue(why="copies are always checked with SHA-256 as they are written.")
    batch_size = serializers.IntegerField(min_value=100, max_value=100_000, default=5000,
                                          help_text="Rows per batch of a database copy.")
    tables = serializers.ListField(child=serializers.CharField(max_length=128), required=False, max_length=500,
                                   help_text="Tables a database copy moves (all by default).")


#: The guide's transfer methods: those this engine has, with the part kinds each moves, and the rest, refused.
TRANSFER_METHODS = {"hybrid_sync": ("files", "database"), "rsync": ("files",)}
UNSUPPORTED_TRANSFER_METHODS = ("ssh", "ftp", "s3_sync", "gcs_sync", "azure_sync", "docker_cp")
#: Transfer options that only change how files move.
FILE_OPTIONS = ("chunk_size", "compression")


class TransferConfig(StrictSerializer):
    method = serializers.CharField(default="hybrid_sync",
                                   help_text="hybrid_sync: each part (files, database) by its own transfer; "
                                             "rsync: files only, skipping identical files.")
    options = TransferOptions(required=False)

    def validate_method(self, method: str) -> str:
        if method in UNSUPPORTED_TRANSFER_METHODS:
            raise serializers.ValidationError(f"{UNSUPPORTED}: {method}. Choose one of: "
                                              f"{', '.join(TRANSFER_METHODS)}.")
        if method not in TRANSFER_METHODS:
            raise serializers.ValidationError(f"Choose one of: {', '.join(TRANSFER_METHODS)}.")
        return method


class SafetyConfig(StrictSerializer):
    backup_before = serializers.BooleanField(default=True, help_text="Back up what the copy overwrites.")
    backup_retention_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True, default=None,
        help_text="Days the backup is kept after the run ends; then it is discarded (no rollback). None: kept.")
    rollback_on_failure = serializers.BooleanField(default=False, help_text="Restore the backup when a run fails.")
    verify_after = serializers.BooleanField(default=True, help_text="Compare the destination with the source.")
    maintenance_mode = OnlyFalse(why="the systems migrated here have no maintenance switch to turn on.")


@dataclass(frozen=True)
class Part:
    """One adapter-to-adapter move inside a migration: `name` is "main" or a site part ("files", "database")."""

    name: str
    source: dict
    destination: dict

    @property
    def kind(self) -> str:
        return ADAPTERS[self.source["type"]].kind


def deployment_confinement(tenant: Tenant | None = None) -> Confinement:
    """The deployment's allow-lists (TESSERA_MIGRATIONS), narrowed by the tenant's when it sets any, and the
    platform's own stores, which no list opens."""
    conf = migrations_settings
    deployment = Confinement(allowed_roots=tuple(Path(root) for root in conf.ALLOWED_ROOTS),
                             allowed_db_hosts=tuple(conf.ALLOWED_DB_HOSTS),
                             passwordless_hosts=tuple(conf.ALLOW_PASSWORDLESS),
                             protected=platform_stores())
    if tenant is None:
        return deployment
    limits = tenant_migration_limits(tenant)
    return deployment.narrowed(roots=limits.migration_roots or None, hosts=limits.migration_db_hosts or None)


def flatten_errors(errors: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"source.path": [...]}, the shape API clients can map onto form fields."""
    flat = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = prefix if key == "non_field_errors" and prefix else f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], (dict, list)):
        flat[prefix] = [str(error) for error in errors]
    elif isinstance(errors, list):
        for index, item in enumerate(errors):
            flat.update(flatten_errors(item, f"{prefix}.{index}"))
    return flat


def validate_side(config: object, *, name: str, confinement: Confinement) -> dict[str, Any]:
    """One validated side, or ValidationFailed with field errors named `<name>.<field>`."""
    if not isinstance(config, dict):
        raise ValidationFailed(details={name: ["Must be an object with a `type`."]})
    kind = config.get("type")
    if kind in SITE_KINDS:
        unknown = sorted(str(key) for key in config if key != "type" and key not in SITE_KINDS[kind]["parts"])
        if unknown:
            raise ValidationFailed(details={f"{name}.{key}": ["Unknown field."] for key in unknown})
        validated = {"type": kind}
        for part, part_kind in SITE_KINDS[kind]["parts"].items():
            part_config = validate_side(config.get(part), name=f"{name}.{part}", confinement=confinement)
            if ADAPTERS[part_config["type"]].kind != part_kind:
                raise ValidationFailed(details={f"{name}.{part}.type": [f"A {kind} needs a {part_kind} adapter here."]})
            validated[part] = part_config
        return validated
    if kind not in ADAPTERS:
        raise ValidationFailed(details={f"{name}.type": [f"Choose one of: {', '.join(adapter_types())}."]})
    fields = {key: value for key, value in config.items() if key != "type"}
    serializer = ADAPTERS[kind].config_serializer(data=fields, context={"confinement": confinement})
    if not serializer.is_valid():
        raise ValidationFailed("The migration config is invalid.", details=flatten_errors(serializer.errors, name))
    return {"type": kind, **serializer.validated_data}


def validate_options(data: object, serializer_class: type[serializers.Serializer], name: str) -> dict[str, Any]:
    serializer = serializer_class(data=data or {})
    if not serializer.is_valid():
        raise ValidationFailed("The migration config is invalid.", details=flatten_errors(serializer.errors, name))
    return dict(serializer.validated_data)


#: The sections of a migration config (and of a preset's).
SECTIONS = ("source", "destination", "transfer", "safety")


def printable(key: object) -> str:
    """A config key as it may appear in an error's field name (a NUL spelled out)."""
    return str(key).replace(NULL_CHARACTER, "\\u0000")


def validate_config(*, source: object, destination: object, transfer: object = None, safety: object = None,
                    tenant: Tenant | None = None) -> dict[str, Any]:
    """All four sections validated together; the two sides must be of compatible kinds."""
    # Configs also arrive without a serializer (`manage.py run_migration plan.json`), so NUL is refused here too,
    # with the generator's own walk: PostgreSQL cannot store one in text or JSON.
    errors = {path: [NULL_CHARACTER_MESSAGE] for name, value in zip(SECTIONS, (source, destination, transfer, safety))
              for path in null_character_paths(value, name)}
    if errors:
        raise ValidationFailed("The migration config is invalid.", details=errors)
    confinement = deployment_confinement(tenant)
    validated = {}
    for name, value, validator in (
            ("source", source, lambda v: validate_side(v, name="source", confinement=confinement)),
            ("destination", destination, lambda v: validate_side(v, name="destination", confinement=confinement)),
            ("transfer", transfer, lambda v: validate_options(v, TransferConfig, "transfer")),
            ("safety", safety, lambda v: validate_options(v, SafetyConfig, "safety"))):
        try:
            validated[name] = validator(value)
        except ValidationFailed as error:
            errors.update(error.details)
    if errors:
        raise ValidationFailed("The migration config is invalid.", details=errors)
    kinds = {part.kind for part in parts(validated)}  # raises when the two sides cannot be paired
    method = validated["transfer"]["method"]
    if kinds - set(TRANSFER_METHODS[method]):
        errors["transfer.method"] = [f"{method} moves {' and '.join(TRANSFER_METHODS[method])} only; this migration "
                                     f"has a {' and a '.join(sorted(kinds))} part: use hybrid_sync."]
    options = (transfer or {}).get("options") or {}
    if "files" not in kinds:
        errors.update({f"transfer.options.{name}": ["Only changes how files move; this migration moves none."]
                       for name in FILE_OPTIONS if name in options})
    if errors:
        raise ValidationFailed("The migration config is invalid.", details=errors)
    return validated


def parts(config: dict[str, Any]) -> list[Part]:
    """The adapter-to-adapter moves a validated config makes: one, or one per site part."""
    source, destination = config["source"], config["destination"]
    if source["type"] in SITE_KINDS or destination["type"] in SITE_KINDS:
        if source["type"] != destination["type"]:
            raise ValidationFailed(details={"destination.type": [f"A {source['type']} moves to a {source['type']}."]})
        return [Part(name, source[name], destination[name]) for name in SITE_KINDS[source["type"]]["parts"]]
    if ADAPTERS[source["type"]].kind != ADAPTERS[destination["type"]].kind:
        raise ValidationFailed(details={"destination.type": [
            f"A {ADAPTERS[source['type']].kind} source needs a {ADAPTERS[source['type']].kind} destination."]})
    return [Part("main", source, destination)]


def adapter_for(config: dict[str, Any], tenant: Tenant | None = None) -> Adapter:
    return ADAPTERS[config["type"]](config, confinement=deployment_confinement(tenant))


def transfer_options(config: dict[str, Any]) -> dict[str, Any]:
    """A validated config's transfer options, with the defaults of those it leaves out."""
    return validate_options((config.get("transfer") or {}).get("options"), TransferOptions, "transfer.options")


def transfer_for(part: Part, *, options: dict[str, Any], tenant: Tenant | None = None) -> Transfer:
    """The move of one part: its two adapters, confined for `tenant`, driven by their kind's transfer."""
    return TRANSFERS[part.kind](adapter_for(part.source, tenant), adapter_for(part.destination, tenant),
                                options=options)
