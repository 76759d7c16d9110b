"""Per-tenant settings are fields of the tenants resource by their bare names, so a name may be declared once."""
from django.db import models
from django.test.utils import isolate_apps

from apps.jobs.models import TenantJobLimits
from apps.migrations_app.models import TenantMigrationLimits
from apps.tenants.checks import check_policy_names
from apps.tenants.models import TenantPolicy


def test_the_installed_policies_pass():
    assert check_policy_names() == []
    assert check_policy_names(policies=[TenantJobLimits, TenantMigrationLimits]) == []


@isolate_apps("tests.testapp")
def test_a_setting_named_like_another_apps_is_tenants_e001():
    class TenantExportLimits(TenantPolicy):
        max_concurrent_jobs = models.PositiveIntegerField(default=1)

        class Meta:
            app_label = "testapp"

    errors = check_policy_names(policies=[TenantJobLimits, TenantExportLimits])

    assert [error.id for error in errors] == ["tenants.E001"]
    assert "TenantExportLimits.max_concurrent_jobs" in errors[0].msg and "TenantJobLimits" in errors[0].msg
    assert errors[0].hint


@isolate_apps("tests.testapp")
def test_a_setting_named_like_a_tenant_field_is_tenants_e001():
    class TenantNamingPolicy(TenantPolicy):
        slug = models.SlugField()

        class Meta:
            app_label = "testapp"

    errors = check_policy_names(policies=[TenantNamingPolicy])

    assert [error.id for error in errors] == ["tenants.E001"] and "Tenant.slug" in errors[0].msg
