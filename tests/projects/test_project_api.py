"""Projects: CRUD on the caller's own projects in the active tenant, repository URLs checked, `enabled` filter."""
import pytest

from apps.projects.models import Project
from tests.conftest import CANARY
from tests.repositories import GITHUB_URL, make_git_repository

pytestmark = pytest.mark.django_db


def test_a_project_is_created_for_the_caller_in_the_active_tenant(user_client, user, tenant):
    response = user_client.post("/api/v1/projects/", {"name": "Widgets", "repository_url": GITHUB_URL}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Widgets" and body["enabled"] is True and body["default_branch"] == "main"
    project = Project.objects.get(pk=body["id"])
    assert (project.owner, project.tenant) == (user, tenant)


@pytest.mark.parametrize("url", [
    "https://github.com/acme/widgets", "https://github.com/acme/widgets.git", "https://github.com/a-b/c.d_e/",
])
def test_github_repository_urls_are_accepted(user_client, url):
    response = user_client.post("/api/v1/projects/", {"name": "P", "repository_url": url}, format="json")

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("url", [
    "http://github.com/acme/widgets", "https://gitlab.com/acme/widgets", "https://github.com/acme",
    "https://github.com.evil.example/acme/widgets", "https://github.com/acme/widgets/issues", "/etc",
    "file:///etc", "git@github.com:acme/widgets.git", "",
])
def test_anything_else_is_refused_naming_repository_url(user_client, url):
    response = user_client.post("/api/v1/projects/", {"name": "P", "repository_url": url}, format="json")

    assert response.status_code == 400
    assert "repository_url" in response.json()["error"]["details"]
    assert not Project.objects.exists()


def test_a_local_git_repository_under_an_allowed_root_is_accepted(user_client, repository_root):
    path = make_git_repository(repository_root / "widgets", {"README.md": "Widgets\n"})

    response = user_client.post("/api/v1/projects/", {"name": "Local", "repository_url": path}, format="json")

    assert response.status_code == 201, response.json()


def test_a_local_directory_that_is_not_a_repository_is_refused(user_client, repository_root):
    (repository_root / "plain").mkdir()

    response = user_client.post("/api/v1/projects/", {"name": "P", "repository_url": str(repository_root / "plain")},
                                format="json")

    assert response.status_code == 400
    assert "not a git repository" in str(response.json()["error"]["details"]["repository_url"])


def test_a_path_escaping_the_allowed_root_is_refused(user_client, repository_root, tmp_path):
    outside = make_git_repository(tmp_path / "outside", {"a.py": "x = 1\n"})

    for url in (outside, f"{repository_root}/../outside"):
        response = user_client.post("/api/v1/projects/", {"name": "P", "repository_url": url}, format="json")
        assert response.status_code == 400, url


def test_the_enabled_filter_narrows_the_list(user_client, project, user, tenant):
    disabled = Project.objects.create(tenant=tenant, owner=user, name="Off", repository_url=GITHUB_URL, enabled=False)

    response = user_client.get("/api/v1/projects/?enabled=false")

    assert [row["id"] for row in response.json()["results"]] == [disabled.id]


def test_a_project_is_updated_and_deleted(user_client, project):
    assert user_client.patch(f"/api/v1/projects/{project.id}/", {"enabled": False}, format="json").json()["enabled"] \
        is False

    assert user_client.delete(f"/api/v1/projects/{project.id}/").status_code == 204
    assert not Project.objects.filter(pk=project.id).exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_someone_elses_project_is_not_found(user_client, second_user_project, other_tenant_project, method):
    for hidden in (second_user_project, other_tenant_project):
        response = getattr(user_client, method)(f"/api/v1/projects/{hidden.id}/", {"name": "x"}, format="json")
        assert response.status_code == 404
        assert CANARY not in response.content.decode()


def test_someone_elses_projects_are_absent_from_the_list(user_client, project, second_user_project,
                                                          other_tenant_project):
    response = user_client.get("/api/v1/projects/")

    assert [row["id"] for row in response.json()["results"]] == [project.id]


def test_a_viewer_reads_but_cannot_create(viewer_client):
    assert viewer_client.get("/api/v1/projects/").status_code == 200
    response = viewer_client.post("/api/v1/projects/", {"name": "P", "repository_url": GITHUB_URL}, format="json")
    assert response.status_code == 403


def test_creates_are_limited_to_ten_a_minute(user_client):
    statuses = [user_client.post("/api/v1/projects/", {"name": f"P{i}", "repository_url": GITHUB_URL},
                                 format="json").status_code for i in range(11)]

    assert statuses == [201] * 10 + [429]


def test_deletes_are_limited_to_five_a_minute(user_client, user, tenant):
    projects = [Project.objects.create(tenant=tenant, owner=user, name=f"P{i}", repository_url=GITHUB_URL)
                for i in range(6)]

    statuses = [user_client.delete(f"/api/v1/projects/{p.id}/").status_code for p in projects]

    assert statuses == [204] * 5 + [429]


def test_every_endpoint_of_a_resource_counts_towards_its_sixty_a_minute(user_client, project):
    reads = [user_client.get("/api/v1/projects/").status_code for _ in range(30)]
    reads += [user_client.get(f"/api/v1/projects/{project.id}/").status_code for _ in range(30)]

    response = user_client.patch(f"/api/v1/projects/{project.id}/", {"enabled": False}, format="json")

    assert reads == [200] * 60
    assert response.status_code == 429
    assert response["X-RateLimit-Limit"] == "60"
