import pytest

from apps.projects.models import Project
from tests.repositories import GITHUB_URL


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def second_user_project(second_user, tenant):
    return Project.objects.create(tenant=tenant, owner=second_user, name="Theirs", repository_url=GITHUB_URL)


@pytest.fixture
def other_tenant_project(other_user, other_tenant):
    return Project.objects.create(tenant=other_tenant, owner=other_user, name="Elsewhere", repository_url=GITHUB_URL)
