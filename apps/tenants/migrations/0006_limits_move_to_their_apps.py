"""The job and migration limits left Tenant: jobs.0002 and migrations_app.0003 copied them into those apps' own
tables first, so this drops only columns whose values live on there."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_invitations'),
        ('jobs', '0002_tenant_job_limits'),
        ('migrations_app', '0003_tenant_migration_limits'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='tenant',
            name='max_concurrent_jobs',
        ),
        migrations.RemoveField(
            model_name='tenant',
            name='max_concurrent_migrations',
        ),
        migrations.RemoveField(
            model_name='tenant',
            name='migration_db_hosts',
        ),
        migrations.RemoveField(
            model_name='tenant',
            name='migration_roots',
        ),
    ]
