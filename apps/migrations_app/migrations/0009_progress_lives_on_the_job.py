"""A run's percent and step are its job's (0008 moved them there): the run's copies go."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("migrations_app", "0008_backups_metrics_and_progress_data")]

    operations = [
        migrations.RemoveField(model_name="migrationrun", name="progress"),
        migrations.RemoveField(model_name="migrationrun", name="step"),
    ]
