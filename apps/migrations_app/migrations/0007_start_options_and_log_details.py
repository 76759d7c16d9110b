"""Start options (auto_rollback, send_notifications) and the log's component and details; the progress columns
leave in 0009, once 0008 has moved what they held."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0002_tenant_job_limits'),
        ('migrations_app', '0006_session_id_unique'),
    ]

    operations = [
        migrations.AddField(
            model_name='migrationlog',
            name='component',
            field=models.CharField(blank=True, help_text='file_transfer, database_transfer, backup...', max_length=40),
        ),
        migrations.AddField(
            model_name='migrationlog',
            name='details',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='migrationrun',
            name='auto_rollback',
            field=models.BooleanField(default=False, help_text='Asked at start: roll back if this run fails.'),
        ),
        migrations.AddField(
            model_name='migrationrun',
            name='send_notifications',
            field=models.BooleanField(default=False, help_text='Asked at start: notify on the outcome.'),
        ),
        migrations.AlterField(
            model_name='migrationrun',
            name='backup',
            field=models.JSONField(blank=True, help_text='What rollback restores: {id, taken_at, parts}.', null=True),
        ),
        migrations.AlterField(
            model_name='migrationrun',
            name='job',
            field=models.ForeignKey(blank=True, help_text="The latest run or rollback: its progress and step are the migration's.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job'),
        ),
        migrations.AlterField(
            model_name='migrationrun',
            name='metrics',
            field=models.JSONField(blank=True, default=dict, help_text='Live and final measures (tracking.py).'),
        ),
    ]
