"""Moving the job and migration limits off Tenant keeps every tenant's values, and moving back restores them."""
import pytest

from tests.migrating import latest, migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("tenants", "0005_invitations"), ("jobs", "0001_initial"),
                   ("migrations_app", "0002_builtin_presets")]
LIMITS = ["max_concurrent_jobs", "max_concurrent_migrations", "migration_roots", "migration_db_hosts"]
ACME = {"max_concurrent_jobs": 9, "max_concurrent_migrations": 4, "migration_roots": ["/srv/acme"],
        "migration_db_hosts": ["db.acme:5432"]}
GLOBEX_DEFAULTS = {"max_concurrent_jobs": 5, "max_concurrent_migrations": 2, "migration_roots": [],
                   "migration_db_hosts": []}


def limits_after_the_move(apps, slug: str) -> dict:
    tenant = apps.get_model("tenants", "Tenant").objects.get(slug=slug)
    jobs = apps.get_model("jobs", "TenantJobLimits").objects.get(tenant=tenant)
    migrations = apps.get_model("migrations_app", "TenantMigrationLimits").objects.get(tenant=tenant)
    return {"max_concurrent_jobs": jobs.max_concurrent_jobs,
            **{name: getattr(migrations, name) for name in LIMITS[1:]}}


def test_every_tenants_limits_move_into_the_apps_that_enforce_them_and_back():
    with migrated_back_to(BEFORE_THE_MOVE) as old_apps:
        Tenant = old_apps.get_model("tenants", "Tenant")
        Tenant.objects.create(name="Acme", slug="acme", **ACME)
        Tenant.objects.create(name="Globex", slug="globex")

        new_apps = migrate(latest())

        assert limits_after_the_move(new_apps, "acme") == ACME
        assert limits_after_the_move(new_apps, "globex") == GLOBEX_DEFAULTS

        Tenant = migrate(BEFORE_THE_MOVE).get_model("tenants", "Tenant")
        assert Tenant.objects.filter(slug="acme", **ACME).exists()
