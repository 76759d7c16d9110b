"""GitHub as the other apps use it: the repository a project names, and GitHub's failures as API errors."""
from collections.abc import Iterator
from contextlib import contextmanager

from apps.api.errors import NotFound, Unavailable, ValidationFailed
from apps.projects.repositories import github_repository

from .client import GitHubError


def repository_of(project) -> tuple[str, str]:
    """`(owner, name)` of a project's GitHub repository; a project kept elsewhere cannot sync (400)."""
    repository = github_repository(project.repository_url)
    if repository is None:
        raise ValidationFailed(details={"project": ["This project's repository is not on GitHub: nothing to sync."]})
    return repository


@contextmanager
def answering_for_github() -> Iterator[None]:
    """Turn GitHub's refusals into the API's errors: a 404 is ours to say, anything else makes us unavailable."""
    try:
        yield
    except GitHubError as error:
        if error.status == 404:
            raise NotFound(str(error)) from None
        raise Unavailable(str(error)) from None
