"""Load the built-in presets shipped in presets/builtin.json (tenant-less, read-only through the API)."""
import json
from pathlib import Path

from django.db import migrations

BUILTIN = Path(__file__).resolve().parent.parent / "presets" / "builtin.json"


def load_builtin_presets(apps, schema_editor):
    Preset = apps.get_model("migrations_app", "Preset")
    for entry in json.loads(BUILTIN.read_text()):
        Preset.objects.update_or_create(tenant=None, slug=entry["slug"], defaults={
            "name": entry["name"], "description": entry["description"], "config": entry["config"]})


def remove_builtin_presets(apps, schema_editor):
    apps.get_model("migrations_app", "Preset").objects.filter(tenant=None).delete()


class Migration(migrations.Migration):
    dependencies = [("migrations_app", "0001_initial")]

    operations = [migrations.RunPython(load_builtin_presets, remove_builtin_presets)]
