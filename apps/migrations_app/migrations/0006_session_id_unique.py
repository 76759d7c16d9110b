"""Every run has its session_id (0005): from now on it is required, unique and indexed, new ones random."""
import apps.migrations_app.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("migrations_app", "0005_guide_vocabulary_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="migrationrun",
            name="session_id",
            field=models.CharField(default=apps.migrations_app.models.new_session_id, editable=False, max_length=32,
                                   unique=True),
        ),
    ]
