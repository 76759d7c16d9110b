"""POST /issues/sync copies a project's GitHub issues in, through the GitHub client, from a local stand-in."""
import pytest

from apps.issues.models import Issue
from apps.projects.models import Project
from tests.github.standin import github, github_issue  # noqa: F401 (fixture)
from tests.repositories import make_git_repository

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets",
                                  repository_url="https://github.com/acme/widgets")


def test_sync_creates_new_issues_and_updates_known_ones(user_client, project, github, user, tenant):
    Issue.objects.create(tenant=tenant, owner=user, project=project, github_number=1, title="Old title",
                         status="in_progress")
    github.repositories["acme/widgets"] = {"issues": [
        github_issue(1, title="Crash", labels=["bug"]),
        github_issue(2, title="Done", state="closed", state_reason="completed", closed_at="2026-01-02T00:00:00Z"),
        github_issue(3, title="Won't do", state="closed", state_reason="not_planned"),
        {**github_issue(4, title="A pull request"), "pull_request": {"url": "..."}},
    ], "pulls": {}}

    response = user_client.post("/api/v1/issues/sync/", {"project": project.id}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 1}
    issues = {i.github_number: i for i in Issue.objects.all()}
    assert (issues[1].title, issues[1].labels, issues[1].status) == ("Crash", ["bug"], "in_progress")
    assert (issues[2].status, issues[2].resolved_at.year) == ("resolved", 2026)
    assert issues[3].status == "closed"
    assert 4 not in issues


def test_sync_again_creates_nothing_new(user_client, project, github):
    github.repositories["acme/widgets"] = {"issues": [github_issue(1, title="Crash")], "pulls": {}}

    user_client.post("/api/v1/issues/sync/", {"project": project.id}, format="json")
    second = user_client.post("/api/v1/issues/sync/", {"project": project.id}, format="json").json()

    assert second == {"created": 0, "updated": 1}
    assert Issue.objects.count() == 1


def test_a_repository_github_does_not_know_is_a_404(user_client, project, github):
    response = user_client.post("/api/v1/issues/sync/", {"project": project.id}, format="json")

    assert response.status_code == 404
    assert not Issue.objects.exists()


def test_github_unreachable_is_a_503(user_client, project, settings):
    settings.TESSERA_GITHUB = {"API_URL": "http://127.0.0.1:9", "TIMEOUT": 2}

    assert user_client.post("/api/v1/issues/sync/", {"project": project.id}, format="json").status_code == 503


def test_a_local_project_does_not_sync(user_client, user, tenant, repository_root):
    path = make_git_repository(repository_root / "r", {"a.py": "x = 1\n"})
    local = Project.objects.create(tenant=tenant, owner=user, name="Local", repository_url=path)

    response = user_client.post("/api/v1/issues/sync/", {"project": local.id}, format="json")

    assert response.status_code == 400
    assert "project" in response.json()["error"]["details"]


def test_another_tenants_project_cannot_be_synced(user_client, other_user, other_tenant, github):
    theirs = Project.objects.create(tenant=other_tenant, owner=other_user, name="P",
                                    repository_url="https://github.com/acme/widgets")

    response = user_client.post("/api/v1/issues/sync/", {"project": theirs.id}, format="json")

    assert response.status_code == 400
    assert github.requests == []
