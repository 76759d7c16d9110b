"""Presets become the guide's: `config` is renamed `config_template` (its values kept), with declared
`variables` and the `source_types` / `destination_types` it moves between (0011 fills them)."""
import apps.migrations_app.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("migrations_app", "0009_progress_lives_on_the_job")]

    operations = [
        migrations.RenameField(model_name="preset", old_name="config", new_name="config_template"),
        migrations.AlterField(
            model_name="preset", name="config_template",
            field=models.JSONField(help_text="source, destination, transfer and safety, without credentials; strings "
                                             "may hold {{variable}} placeholders."),
        ),
        migrations.AddField(
            model_name="preset", name="destination_types",
            field=models.JSONField(blank=True, default=list, help_text="Destination types it moves to.",
                                   validators=[apps.migrations_app.models.validate_string_list]),
        ),
        migrations.AddField(
            model_name="preset", name="source_types",
            field=models.JSONField(blank=True, default=list, help_text="Source types the preset moves from.",
                                   validators=[apps.migrations_app.models.validate_string_list]),
        ),
        migrations.AddField(
            model_name="preset", name="variables",
            field=models.JSONField(blank=True, default=list,
                                   help_text="The placeholders' declarations: [{name, type, required, default}]."),
        ),
    ]
