"""Real git repositories made by tests, and the deployment setting that lets projects use them."""
import subprocess

import pytest

GITHUB_URL = "https://github.com/acme/widgets"


def git(path, *args: str) -> None:
    subprocess.run(["git", "-C", str(path), "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
                   check=True)


def make_git_repository(path, files: dict[str, str]) -> str:
    """A git repository at `path` with `files` committed on `main`; returns its path."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    commit(path, files, branch="main")
    return str(path)


def commit(path, files: dict[str, str], *, branch: str) -> None:
    """Commit `files` (name -> text) on `branch`, made from the current one when new."""
    git(path, "checkout", "-q", "-B", branch)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", f"Change on {branch}")


@pytest.fixture
def repository_root(tmp_path, settings):
    """A directory projects may use repositories from (TESSERA_PROJECTS["LOCAL_REPOSITORY_ROOTS"])."""
    root = tmp_path / "repositories"
    root.mkdir()
    settings.TESSERA_PROJECTS = {"LOCAL_REPOSITORY_ROOTS": [str(root)]}
    return root
