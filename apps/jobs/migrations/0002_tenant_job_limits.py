"""Job limits move from Tenant into the jobs app's own table, one row per existing tenant with its value;
tenants.0006 then drops the column. Reversed, the values go back onto the tenants."""

import django.db.models.deletion
from django.db import migrations, models


def copy_from_tenants(apps, schema_editor):
    Tenant, TenantJobLimits = apps.get_model("tenants", "Tenant"), apps.get_model("jobs", "TenantJobLimits")
    TenantJobLimits.objects.bulk_create(
        (TenantJobLimits(tenant_id=tenant_id, max_concurrent_jobs=limit)
         for tenant_id, limit in Tenant.objects.values_list("pk", "max_concurrent_jobs").iterator()),
        batch_size=1000)


def copy_back_to_tenants(apps, schema_editor):
    Tenant, TenantJobLimits = apps.get_model("tenants", "Tenant"), apps.get_model("jobs", "TenantJobLimits")
    for limits in TenantJobLimits.objects.iterator():
        Tenant.objects.filter(pk=limits.tenant_id).update(max_concurrent_jobs=limits.max_concurrent_jobs)


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0001_initial'),
        ('tenants', '0005_invitations'),
    ]

    operations = [
        migrations.CreateModel(
            name='TenantJobLimits',
            fields=[
                ('tenant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='%(app_label)s_policy', serialize=False, to='tenants.tenant')),
                ('max_concurrent_jobs', models.PositiveIntegerField(default=5, help_text='Jobs running at once.')),
            ],
            options={
                'verbose_name': 'job limits',
                'verbose_name_plural': 'job limits',
            },
        ),
        migrations.RunPython(copy_from_tenants, copy_back_to_tenants),
    ]
