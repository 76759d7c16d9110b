"""The operator console's pull request actions: sync from GitHub (the local stand-in) and a standard review, through
the same services as the API's verbs, each selected pull request reported: done, or why not."""
import pytest

from apps.projects.models import Project
from apps.pulls.models import PullRequest
from tests.github.standin import github, github_pull  # noqa: F401 (fixture)
from tests.repositories import GITHUB_URL

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/pulls/pullrequest/"


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def github_pull_request(project, user, tenant):
    return PullRequest.objects.create(tenant=tenant, owner=user, project=project, number=7, title="Old title",
                                      base="main", head="feature")


@pytest.fixture
def local_pull_request(user, tenant):
    project = Project.objects.create(tenant=tenant, owner=user, name="Local", repository_url="/srv/git/local")
    return PullRequest.objects.create(tenant=tenant, owner=user, project=project, title="Local change", base="main",
                                      head="feature")


def run_action(client, action: str, *pull_requests):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [pr.pk for pr in pull_requests]},
                           follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_sync_reads_each_github_pull_request_again_and_says_why_a_local_one_does_not_sync(
        console, github, github_pull_request, local_pull_request):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {7: github_pull(7, title="New title",
                                                                                  state="closed")}}

    messages = run_action(console, "sync", github_pull_request, local_pull_request)

    assert messages == ["New title: synced from GitHub.",
                        "Local change: Invalid input. number: Only pull requests of GitHub projects sync."]
    github_pull_request.refresh_from_db()
    assert (github_pull_request.title, github_pull_request.state) == ("New title", "closed")
    assert github_pull_request.synced_at is not None
    assert PullRequest.objects.get(pk=local_pull_request.pk).synced_at is None


def test_sync_of_a_pull_request_github_no_longer_has_is_a_message(console, github, github_pull_request):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {}}

    messages = run_action(console, "sync", github_pull_request)

    assert messages == ["Old title: GitHub has no such repository, issue or pull request (or it is private)."]
    assert PullRequest.objects.get(pk=github_pull_request.pk).title == "Old title"


def test_review_queues_a_standard_review_by_a_reviewer_the_pull_requests_owner_owns(console, admin_user, user,
                                                                                   local_pull_request):
    messages = run_action(console, "review", local_pull_request)

    assert messages == ["Local change: standard review queued."]
    reviewer = PullRequest.objects.get(pk=local_pull_request.pk).reviewer
    assert (reviewer.type, reviewer.status, reviewer.owner) == ("pr_reviewer", "pending", user)
    assert reviewer.config == {"level": "standard", "base": "main", "head": "feature",
                               "pull_request": local_pull_request.pk}
    assert (reviewer.job.status, reviewer.job.created_by) == ("queued", admin_user)


def test_reviewing_a_pull_request_already_under_review_is_a_message(console, local_pull_request):
    run_action(console, "review", local_pull_request)

    messages = run_action(console, "review", local_pull_request)

    assert messages == ["Local change: A queued or running agent cannot be changed; cancel it first."]
