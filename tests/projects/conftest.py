import subprocess

import pytest

from apps.projects.models import Project

GITHUB_URL = "https://github.com/acme/widgets"


def make_git_repository(path, files: dict[str, str]) -> str:
    """A real git repository at `path` with `files` committed on `main`; returns its path."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git = ["git", "-C", str(path), "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "Initial"], check=True)
    return str(path)


@pytest.fixture
def repository_root(tmp_path, settings):
    root = tmp_path / "repositories"
    root.mkdir()
    settings.TESSERA_PROJECTS = {"LOCAL_REPOSITORY_ROOTS": [str(root)]}
    return root


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def second_user_project(second_user, tenant):
    return Project.objects.create(tenant=tenant, owner=second_user, name="Theirs", repository_url=GITHUB_URL)


@pytest.fixture
def other_tenant_project(other_user, other_tenant):
    return Project.objects.create(tenant=other_tenant, owner=other_user, name="Elsewhere", repository_url=GITHUB_URL)
