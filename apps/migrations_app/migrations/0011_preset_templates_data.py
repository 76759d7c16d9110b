"""Stored presets take the guide's shape: each names the source and destination types of its template; a
tenant's preset whose slug a built-in also has is renamed `<slug>-custom` (presets are looked up by slug); the
built-ins are reloaded from presets/builtin.json, now with their variables. Reversed, the built-ins' templates
are filled with their variables' defaults."""
import json
import re
from pathlib import Path

from django.db import migrations

BUILTIN = Path(__file__).resolve().parent.parent / "presets" / "builtin.json"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def side_type(config, side):
    value = (config or {}).get(side)
    kind = value.get("type") if isinstance(value, dict) else None
    return [kind] if isinstance(kind, str) and not PLACEHOLDER.search(kind) else []


def forward(apps, schema_editor):
    Preset = apps.get_model("migrations_app", "Preset")
    shipped = json.loads(BUILTIN.read_text())
    builtin_slugs = {*Preset.objects.filter(tenant=None).values_list("slug", flat=True),
                     *(entry["slug"] for entry in shipped)}
    for preset in Preset.objects.exclude(tenant=None).filter(slug__in=builtin_slugs):
        Preset.objects.filter(pk=preset.pk).update(slug=f"{preset.slug}-custom"[:80])
    for entry in shipped:
        Preset.objects.update_or_create(tenant=None, slug=entry["slug"], defaults={
            "name": entry["name"], "description": entry["description"], "config_template": entry["config"],
            "variables": entry.get("variables", [])})
    for preset in Preset.objects.all():
        Preset.objects.filter(pk=preset.pk).update(source_types=side_type(preset.config_template, "source"),
                                                   destination_types=side_type(preset.config_template,
                                                                               "destination"))


def fill(value, defaults):
    if isinstance(value, dict):
        return {key: fill(item, defaults) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, defaults) for item in value]
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        return defaults.get(whole.group(1)) if whole else PLACEHOLDER.sub(
            lambda match: str(defaults.get(match.group(1), "")), value)
    return value


def backward(apps, schema_editor):
    Preset = apps.get_model("migrations_app", "Preset")
    for preset in Preset.objects.filter(tenant=None):
        defaults = {variable["name"]: variable.get("default") for variable in preset.variables}
        Preset.objects.filter(pk=preset.pk).update(config_template=fill(preset.config_template, defaults))


class Migration(migrations.Migration):

    dependencies = [("migrations_app", "0010_preset_templates")]

    operations = [migrations.RunPython(forward, backward)]
