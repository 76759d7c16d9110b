"""Fixtures of the tenants tests: a tenant-level admin, who manages members without owning the tenant."""
import pytest

from apps.tenants.models import Membership
from tests.conftest import client_for, make_user


@pytest.fixture
def tenant_admin(tenant):
    return make_user("tenant-admin@example.com", tenant=tenant, membership_role=Membership.Role.ADMIN)


@pytest.fixture
def tenant_admin_client(tenant_admin, tenant):
    return client_for(tenant_admin, tenant)
