"""Pull requests: tracked from GitHub (through the stand-in) or by branches, synced, counted; isolation."""
import pytest

from apps.agents.models import Agent
from apps.pulls.models import PullRequest
from apps.projects.models import Project
from tests.conftest import CANARY
from tests.github.standin import github, github_pull  # noqa: F401 (fixture)
from tests.repositories import GITHUB_URL, make_git_repository

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def local_project(user, tenant, repository_root):
    path = make_git_repository(repository_root / "local", {"a.py": "x = 1\n"})
    return Project.objects.create(tenant=tenant, owner=user, name="Local", repository_url=path)


def test_a_github_pull_request_is_tracked_by_number_and_read_from_github(user_client, project, github):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {7: github_pull(7, title="Add widgets")}}

    response = user_client.post("/api/v1/prs/", {"project": project.id, "number": 7}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title"], body["base"], body["head"], body["state"], body["author"], body["additions"]) == (
        "Add widgets", "main", "feature", "open", "octocat", 10)
    assert body["synced_at"] is not None


def test_tracking_the_same_pull_request_twice_is_a_conflict(user_client, project, github):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {7: github_pull(7, title="Add widgets")}}
    user_client.post("/api/v1/prs/", {"project": project.id, "number": 7}, format="json")

    response = user_client.post("/api/v1/prs/", {"project": project.id, "number": 7}, format="json")

    assert response.status_code == 409
    assert PullRequest.objects.count() == 1


def test_a_pull_request_github_does_not_have_is_a_404_and_nothing_is_tracked(user_client, project, github):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {}}

    assert user_client.post("/api/v1/prs/", {"project": project.id, "number": 9}, format="json").status_code == 404
    assert not PullRequest.objects.exists()


def test_a_github_pull_request_needs_its_number(user_client, project):
    response = user_client.post("/api/v1/prs/", {"project": project.id, "base": "main", "head": "x"}, format="json")

    assert response.status_code == 400
    assert "number" in response.json()["error"]["details"]


def test_a_local_pull_request_is_tracked_by_branches(user_client, local_project):
    response = user_client.post("/api/v1/prs/", {"project": local_project.id, "title": "Local change",
                                                 "base": "main", "head": "feature"}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["number"] is None


@pytest.mark.parametrize("body,field", [({"base": "main"}, "head"), ({"head": "x", "base": "-rf"}, "base"),
                                        ({"base": "main", "head": "a..b"}, "head"),
                                        ({"base": "main", "head": "x", "number": 3}, "number")])
def test_a_local_pull_request_needs_two_valid_branches_and_no_number(user_client, local_project, body, field):
    response = user_client.post("/api/v1/prs/", {"project": local_project.id, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_sync_reads_the_pull_request_again(user_client, project, github, user, tenant):
    github.repositories["acme/widgets"] = {"issues": [], "pulls": {7: github_pull(7, title="Add widgets")}}
    pull = user_client.post("/api/v1/prs/", {"project": project.id, "number": 7}, format="json").json()
    github.repositories["acme/widgets"]["pulls"][7] = github_pull(7, title="Add widgets", state="closed",
                                                                   merged=True)

    response = user_client.post(f"/api/v1/prs/{pull['id']}/sync/")

    assert (response.status_code, response.json()["state"]) == (200, "merged")


def test_a_local_pull_request_does_not_sync(user_client, local_project, user, tenant):
    pull = PullRequest.objects.create(tenant=tenant, owner=user, project=local_project, base="main", head="f")

    assert user_client.post(f"/api/v1/prs/{pull.id}/sync/").status_code == 400


def test_review_is_404_until_one_was_started_and_then_shows_the_run(user_client, local_project, user, tenant):
    pull = PullRequest.objects.create(tenant=tenant, owner=user, project=local_project, base="main", head="f")
    assert user_client.get(f"/api/v1/prs/{pull.id}/review/").status_code == 404

    started = user_client.post(f"/api/v1/prs/{pull.id}/review/", {"level": "quick"}, format="json")

    assert started.status_code == 202, started.json()
    latest = user_client.get(f"/api/v1/prs/{pull.id}/review/").json()
    assert (latest["status"], latest["review"]) == ("pending", None)
    agent = Agent.objects.get(pk=latest["agent"])
    assert (agent.type, agent.config) == ("pr_reviewer", {"level": "quick", "base": "main", "head": "f",
                                                          "pull_request": pull.id})
    assert user_client.post(f"/api/v1/prs/{pull.id}/review/", {}, format="json").status_code == 409


def test_a_github_pull_request_is_reviewed_at_githubs_pull_ref(user_client, project, user, tenant):
    pull = PullRequest.objects.create(tenant=tenant, owner=user, project=project, number=7, base="main", head="f")

    user_client.post(f"/api/v1/prs/{pull.id}/review/", {"level": "thorough"}, format="json")

    pull.refresh_from_db()
    assert pull.reviewer.config["head"] == "refs/pull/7/head"


def test_stats_count_states_and_review_verdicts(user_client, local_project, user, tenant):
    for state, verdict in [("open", "approved"), ("merged", "changes_requested"), ("open", None)]:
        reviewer = None
        if verdict:
            reviewer = Agent.objects.create(tenant=tenant, owner=user, project=local_project, name="R",
                                            type="pr_reviewer", status="completed",
                                            result={"approval_status": verdict})
        PullRequest.objects.create(tenant=tenant, owner=user, project=local_project, base="main", head="f",
                                   state=state, reviewer=reviewer)

    stats = user_client.get("/api/v1/prs/stats/").json()

    assert stats["total"] == 3
    assert stats["by_state"] == {"open": 2, "closed": 0, "merged": 1}
    assert (stats["reviewed"], stats["by_approval_status"]) == (2, {"approved": 1, "commented": 0,
                                                                    "changes_requested": 1})


def test_another_tenants_pull_request_is_not_found_on_every_route(user_client, other_user, other_tenant):
    project = Project.objects.create(tenant=other_tenant, owner=other_user, name="P", repository_url=GITHUB_URL)
    theirs = PullRequest.objects.create(tenant=other_tenant, owner=other_user, project=project, number=1,
                                        title=CANARY)

    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "review/"), ("get", "review/"),
                         ("post", "sync/")]:
        response = getattr(user_client, method)(f"/api/v1/prs/{theirs.id}/{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    assert CANARY not in user_client.get("/api/v1/prs/").content.decode()
    assert user_client.get("/api/v1/prs/stats/").json()["total"] == 0


def test_deleting_stops_tracking(user_client, local_project, user, tenant):
    pull = PullRequest.objects.create(tenant=tenant, owner=user, project=local_project, base="main", head="f")

    assert user_client.delete(f"/api/v1/prs/{pull.id}/").status_code == 204
    assert not PullRequest.objects.exists()
