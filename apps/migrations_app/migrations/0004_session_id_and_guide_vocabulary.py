"""The Migration Assistant guide's vocabulary, schema first: a `session_id` column (filled by 0005, unique from
0006), the guide's statuses and upper-case log levels as choices."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("migrations_app", "0003_tenant_migration_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="migrationrun",
            name="session_id",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name="migrationlog",
            name="level",
            field=models.CharField(choices=[("DEBUG", "Debug"), ("INFO", "Info"), ("WARNING", "Warning"),
                                            ("ERROR", "Error")], default="INFO", max_length=8),
        ),
        migrations.AlterField(
            model_name="migrationrun",
            name="status",
            field=models.CharField(choices=[("pending", "Pending"), ("started", "Started"), ("running", "Running"),
                                            ("completed", "Completed"), ("failed", "Failed"),
                                            ("cancelled", "Cancelled"), ("rollback_started", "Rollback started"),
                                            ("rolled_back", "Rolled back")], default="pending", max_length=16),
        ),
    ]
