"""Migration limits and allow-lists move from Tenant into the migrations app's own table, one row per existing
tenant with its values; tenants.0006 then drops the columns. Reversed, the values go back onto the tenants."""

import apps.migrations_app.models
import django.db.models.deletion
from django.db import migrations, models

SETTINGS = ("max_concurrent_migrations", "migration_roots", "migration_db_hosts")


def copy_from_tenants(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    TenantMigrationLimits = apps.get_model("migrations_app", "TenantMigrationLimits")
    TenantMigrationLimits.objects.bulk_create(
        (TenantMigrationLimits(tenant_id=values.pop("pk"), **values)
         for values in Tenant.objects.values("pk", *SETTINGS).iterator()),
        batch_size=1000)


def copy_back_to_tenants(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    TenantMigrationLimits = apps.get_model("migrations_app", "TenantMigrationLimits")
    for limits in TenantMigrationLimits.objects.iterator():
        Tenant.objects.filter(pk=limits.tenant_id).update(**{name: getattr(limits, name) for name in SETTINGS})


class Migration(migrations.Migration):

    dependencies = [
        ('migrations_app', '0002_builtin_presets'),
        ('tenants', '0005_invitations'),
    ]

    operations = [
        migrations.CreateModel(
            name='TenantMigrationLimits',
            fields=[
                ('tenant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='%(app_label)s_policy', serialize=False, to='tenants.tenant')),
                ('max_concurrent_migrations', models.PositiveIntegerField(default=2, help_text='Migrations running at once.')),
                ('migration_roots', models.JSONField(blank=True, default=list, help_text="Directories this tenant's migrations may use, inside the deployment's MIGRATION_ALLOWED_ROOTS; empty: all of those.", validators=[apps.migrations_app.models.validate_string_list])),
                ('migration_db_hosts', models.JSONField(blank=True, default=list, help_text="Database hosts this tenant's migrations may reach, among MIGRATION_ALLOWED_DB_HOSTS; empty: all of those.", validators=[apps.migrations_app.models.validate_string_list])),
            ],
            options={
                'verbose_name': 'migration limits',
                'verbose_name_plural': 'migration limits',
            },
        ),
        migrations.RunPython(copy_from_tenants, copy_back_to_tenants),
    ]
