"""Personas, tenants and API clients shared by every test; everything runs on the real database and cache.

Rows that belong to the "other" personas carry a canary string, so a leak shows up by searching a body.
"""
import pytest
from django.db import connection
from django.test import Client

from apps.accounts.models import User
from apps.accounts.services import api_key_create
from apps.accounts.scopes import role_scopes
from apps.accounts.testing import TenantAPIClient
from apps.api.testing import clear_cache
from apps.tasks.models import Task
from apps.tenants.models import Membership, Tenant
from tests.repositories import repository_root  # noqa: F401 (fixture)
from tests.servers import demo_environment, demo_server  # noqa: F401 (fixtures)
from tests.workers import (flush_retrying_deadlocks, handed_over, migration_root, worker_cluster,  # noqa: F401
                           workers)  # fixtures
from tests.workers import subprocess_database_url

PASSWORD = "a-long-enough-test-password"
CANARY = "CANARY-7f3a"


def _flushes_the_database(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in item.fixturenames


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse an order that runs a rolled-back (`db`) test after a transactional one.

    A transactional test ends by flushing every table, the rows data migrations load included (the built-in
    presets of migration 0002), so Django and pytest-django run every `db` test first. pytest-randomly shuffles
    before that grouping and keeps it; an ordering plugin that shuffles after it (pytest-random-order's global
    bucket) does not, and the preset tests then fail for no fault of their own."""
    first_flush = next((index for index, item in enumerate(items) if _flushes_the_database(item)), len(items))
    late = [item.nodeid for item in items[first_flush:] if not _flushes_the_database(item)
            and (item.get_closest_marker("django_db") is not None or "db" in item.fixturenames)]
    if late:
        raise pytest.UsageError(f"{late[0]} (and {len(late) - 1} more) would run after {items[first_flush].nodeid},"
                                " whose flush empties the rows data migrations load: keep pytest-django's grouping"
                                " (pytest-randomly does; pytest-random-order's global bucket does not).")


@pytest.fixture(scope="session", autouse=True)
def _release_the_test_database(django_db_setup, django_db_blocker):
    """Server, worker and socket-thread connections can outlive their tests; PostgreSQL will not drop a database
    that is still in use, and each run's database has a name of its own, so one left behind would stay for good.
    Ending those sessions first lets pytest-django drop it."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                               " WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    clear_cache()
    yield
    clear_cache()


def make_user(email: str, *, role=User.Role.USER, tenant=None, membership_role=Membership.Role.MEMBER, **extra):
    user = User.objects.create_user(email=email, password=PASSWORD, role=role, **extra)
    if tenant is not None:
        Membership.objects.create(tenant=tenant, user=user, role=membership_role)
    return user


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.create(name=f"Globex {CANARY}", slug="globex")


@pytest.fixture
def admin_user(db):
    return make_user("admin@example.com", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def user(tenant):
    return make_user("user@example.com", tenant=tenant, membership_role=Membership.Role.OWNER)


@pytest.fixture
def second_user(tenant):
    return make_user("second@example.com", tenant=tenant)


@pytest.fixture
def viewer(tenant):
    """A platform viewer: reads tenant resources, writes nothing."""
    return make_user("viewer@example.com", role=User.Role.VIEWER, tenant=tenant)


@pytest.fixture
def other_user(other_tenant):
    return make_user("other@example.com", tenant=other_tenant, membership_role=Membership.Role.OWNER,
                     full_name=CANARY)


@pytest.fixture
def mixed_user(tenant, other_tenant):
    """A member of the other tenant who is only a viewer in `tenant`."""
    user = make_user("mixed@example.com", tenant=other_tenant)
    Membership.objects.create(tenant=tenant, user=user, role=Membership.Role.VIEWER)
    return user


def client_for(user, tenant=None) -> TenantAPIClient:
    return TenantAPIClient(tenant=tenant).as_user(user)


@pytest.fixture
def console(admin_user) -> Client:
    """The operator console (Django admin), signed in as the platform admin."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def anon_client():
    return TenantAPIClient()


@pytest.fixture
def admin_client(admin_user, tenant):
    return client_for(admin_user, tenant)


@pytest.fixture
def user_client(user, tenant):
    return client_for(user, tenant)


@pytest.fixture
def guide_client(user):
    """A client written from the Migration Assistant guide sends no X-Tenant-ID: it acts in the caller's (first)
    tenant, which `user` owns."""
    return client_for(user)


@pytest.fixture
def second_user_client(second_user, tenant):
    return client_for(second_user, tenant)


@pytest.fixture
def viewer_client(viewer, tenant):
    return client_for(viewer, tenant)


@pytest.fixture
def other_tenant_client(other_user, other_tenant):
    return client_for(other_user, other_tenant)


@pytest.fixture
def mixed_client(mixed_user):
    """No tenant pinned: each test sends the X-Tenant-ID it needs."""
    return client_for(mixed_user)


@pytest.fixture
def read_only_key(user):
    """An API key of `user` that holds only tasks:read."""
    return api_key_create(user=user, name="read-only", scopes=["tasks:read"], allowed=role_scopes(user.role))


@pytest.fixture
def read_only_key_client(read_only_key, tenant):
    return TenantAPIClient(tenant=tenant).with_api_key(read_only_key.secret)


@pytest.fixture
def task(user, tenant):
    return Task.objects.create(tenant=tenant, user=user, title="Write the spec", priority=Task.Priority.HIGH)


@pytest.fixture
def second_user_task(second_user, tenant):
    return Task.objects.create(tenant=tenant, user=second_user, title=f"Second's task {CANARY}")


@pytest.fixture
def other_tenant_task(other_user, other_tenant):
    return Task.objects.create(tenant=other_tenant, user=other_user, title=f"Globex plan {CANARY}")


@pytest.fixture
def start_server(transactional_db, settings):
    """Start real server processes on the test database (rows the test commits are visible to them)."""
    from django.db import connection

    from tests.servers import ServerProcess

    if connection.vendor != "postgresql":
        pytest.skip("Server processes share the database only on PostgreSQL.")
    base = {"DATABASE_URL": subprocess_database_url(), "SECRET_KEY": settings.SECRET_KEY}
    servers = []

    def start(*, options: tuple[str, ...] = ("--log-level", "warning"), module: str = "config.serve", **environment):
        server = ServerProcess({**base, **environment}, options=options, module=module)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.remove_log()
