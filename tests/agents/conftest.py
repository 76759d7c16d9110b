import pytest

from apps.agents.models import Agent
from apps.projects.models import Project
from tests.repositories import GITHUB_URL


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def analyzer(user, tenant, project):
    return Agent.objects.create(tenant=tenant, owner=user, project=project, name="Lint", type="code_analyzer")


@pytest.fixture
def other_tenant_agent(other_user, other_tenant):
    project = Project.objects.create(tenant=other_tenant, owner=other_user, name="Theirs", repository_url=GITHUB_URL)
    return Agent.objects.create(tenant=other_tenant, owner=other_user, project=project, name="Theirs",
                                type="code_analyzer")
