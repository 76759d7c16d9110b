"""Migration configs: typed validation with field-level errors (`source.path`), and the parts a config moves.

A side of a migration is either one adapter (`{"type": "postgresql", ...}`) or a site kind composed of
parts (`{"type": "django_site", "files": {"type": "directory", ...}, "database": {"type": "postgresql", ...}}`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from apps.api.errors import ValidationFailed
from apps.api.serializers import NULL_CHARACTER, NULL_CHARACTER_MESSAGE, null_character_paths

from .adapters.base import Adapter, StrictSerializer, Transfer
from .adapters.confinement import Confinement
from .adapters.registry import ADAPTERS, SITE_KINDS, TRANSFERS, adapter_types
from .protected import platform_stores

if TYPE_CHECKING:
    from apps.tenants.models import Tenant


class TransferOptions(StrictSerializer):
    parallel_transfers = serializers.IntegerField(min_value=1, max_value=32, default=4)
    batch_size = serializers.IntegerField(min_value=100, max_value=100_000, default=5000)
    tables = serializers.ListField(child=serializers.CharField(max_length=128), required=False, max_length=500)


class TransferConfig(StrictSerializer):
    options = TransferOptions(required=False)


class SafetyConfig(StrictSerializer):
    backup_before = serializers.BooleanField(default=True)
    rollback_on_failure = serializers.BooleanField(default=False)
    verify_after = serializers.BooleanField(default=True)


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
    conf = settings.TESSERA_MIGRATIONS
    deployment = Confinement(allowed_roots=tuple(Path(root) for root in conf["ALLOWED_ROOTS"]),
                             allowed_db_hosts=tuple(conf["ALLOWED_DB_HOSTS"]),
                             passwordless_hosts=tuple(conf.get("ALLOW_PASSWORDLESS", ())),
                             protected=platform_stores())
    if tenant is None:
        return deployment
    return deployment.narrowed(roots=tenant.migration_roots or None, hosts=tenant.migration_db_hosts or None)


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
    parts(validated)  # raises when the two sides cannot be paired
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
