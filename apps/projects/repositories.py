"""What a project's repository may be: a GitHub repository, or a local git repository under an allowed root."""
import re
from pathlib import Path

from django.core.exceptions import ValidationError

from .conf import projects_settings

GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
                        r"(?P<name>[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$")


def github_repository(url: str) -> tuple[str, str] | None:
    """`(owner, name)` of a GitHub repository URL, or None when `url` is not one."""
    match = GITHUB_URL.match(url)
    return (match["owner"], match["name"]) if match else None


def local_repository(url: str) -> Path | None:
    """The resolved directory of a local repository URL (a path or file:// URL), or None when `url` is not local."""
    path = url.removeprefix("file://")
    return Path(path).resolve() if path.startswith("/") else None


def validate_repository_url(url: str) -> None:
    """Model-field validator: a GitHub repository, or a git repository inside LOCAL_REPOSITORY_ROOTS."""
    if github_repository(url):
        return
    path = local_repository(url)
    roots = [Path(root).resolve() for root in projects_settings.LOCAL_REPOSITORY_ROOTS]
    if path is None or not roots:
        raise ValidationError("Give a GitHub repository URL, like https://github.com/owner/name.")
    if not any(path.is_relative_to(root) for root in roots):
        raise ValidationError("This path is outside the directories this deployment allows for repositories.")
    if not (path / ".git").is_dir() and not (path / "HEAD").is_file():
        raise ValidationError("This path is not a git repository.")
