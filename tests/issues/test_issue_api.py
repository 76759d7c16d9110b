"""Issues: CRUD inside your projects, the workflow, label/status/priority filters and stats from the database."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.issues.models import Issue
from apps.projects.models import Project
from tests.conftest import CANARY
from tests.repositories import GITHUB_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def make_issue(user, tenant, project):
    def make(title="Bug", **fields):
        return Issue.objects.create(tenant=tenant, owner=user, project=project, title=title, **fields)
    return make


def test_an_issue_is_created_open_with_its_labels(user_client, project):
    response = user_client.post("/api/v1/issues/", {"project": project.id, "title": "Crash on save",
                                                     "priority": "high", "labels": ["bug", "ui"]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["priority"], body["labels"], body["resolved_at"]) == ("open", "high",
                                                                                      ["bug", "ui"], None)


@pytest.mark.parametrize("labels", ["bug", [1], [""], ["x" * 51], ["a"] * 2, [f"l{i}" for i in range(21)]])
def test_bad_labels_are_refused_by_name(user_client, project, labels):
    response = user_client.post("/api/v1/issues/", {"project": project.id, "title": "T", "labels": labels},
                                format="json")

    assert response.status_code == 400
    assert "labels" in response.json()["error"]["details"]


def test_the_label_filter_matches_whole_labels(user_client, make_issue):
    bug = make_issue("A", labels=["bug", "ui"])
    make_issue("B", labels=["debug"])
    make_issue("C", labels=[])

    response = user_client.get("/api/v1/issues/?label=bug")

    assert [row["id"] for row in response.json()["results"]] == [bug.id]


def test_status_and_priority_filters(user_client, make_issue):
    wanted = make_issue("A", status="in_progress", priority="critical")
    make_issue("B", status="in_progress", priority="low")
    make_issue("C", priority="critical")

    response = user_client.get("/api/v1/issues/?status=in_progress&priority=critical")

    assert [row["id"] for row in response.json()["results"]] == [wanted.id]


def test_the_workflow_moves_forward_and_stamps_the_resolution(user_client, make_issue):
    issue = make_issue()

    assert user_client.patch(f"/api/v1/issues/{issue.id}/", {"status": "in_progress"},
                             format="json").status_code == 200
    response = user_client.post(f"/api/v1/issues/{issue.id}/resolve/", {"resolution": "Fixed in #12"},
                                format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "Fixed in #12")
    assert response.json()["resolved_at"] is not None


def test_a_status_the_workflow_does_not_allow_is_refused_by_name(user_client, make_issue):
    issue = make_issue(status="resolved", resolved_at=timezone.now())

    response = user_client.patch(f"/api/v1/issues/{issue.id}/", {"status": "in_progress"}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_resolving_a_closed_issue_is_a_conflict_and_reopening_clears_the_resolution_time(user_client, make_issue):
    issue = make_issue(status="closed")

    assert user_client.post(f"/api/v1/issues/{issue.id}/resolve/", {}, format="json").status_code == 409
    reopened = user_client.patch(f"/api/v1/issues/{issue.id}/", {"status": "open"}, format="json").json()
    assert (reopened["status"], reopened["resolved_at"]) == ("open", None)


def test_stats_count_by_status_and_priority_and_average_the_time_to_resolve(user_client, make_issue):
    now = timezone.now()
    for hours, priority in [(2, "high"), (4, "low")]:
        issue = make_issue(status="resolved", priority=priority, resolved_at=now)
        Issue.objects.filter(pk=issue.pk).update(created_at=now - timedelta(hours=hours))
    make_issue(priority="high")

    stats = user_client.get("/api/v1/issues/stats/").json()

    assert stats["total"] == 3
    assert stats["by_status"] == {"open": 1, "in_progress": 0, "resolved": 2, "closed": 0}
    assert stats["by_priority"] == {"low": 1, "medium": 0, "high": 2, "critical": 0}
    assert stats["mean_time_to_resolve_seconds"] == pytest.approx(3 * 3600)


def test_stats_follow_the_list_filters(user_client, make_issue):
    make_issue(priority="high")
    make_issue(priority="low")

    assert user_client.get("/api/v1/issues/stats/?priority=high").json()["total"] == 1


def test_another_tenants_issue_is_not_found_and_absent_from_lists_and_stats(user_client, make_issue, other_user,
                                                                            other_tenant):
    project = Project.objects.create(tenant=other_tenant, owner=other_user, name="P", repository_url=GITHUB_URL)
    theirs = Issue.objects.create(tenant=other_tenant, owner=other_user, project=project, title=CANARY)
    make_issue()

    for method in ("get", "patch", "delete"):
        assert getattr(user_client, method)(f"/api/v1/issues/{theirs.id}/", {}, format="json").status_code == 404
    assert user_client.post(f"/api/v1/issues/{theirs.id}/resolve/", {}, format="json").status_code == 404
    assert CANARY not in user_client.get("/api/v1/issues/").content.decode()
    assert user_client.get("/api/v1/issues/stats/").json()["total"] == 1


def test_an_issue_cannot_be_filed_in_a_project_the_caller_cannot_see(user_client, other_user, other_tenant):
    project = Project.objects.create(tenant=other_tenant, owner=other_user, name="P", repository_url=GITHUB_URL)

    response = user_client.post("/api/v1/issues/", {"project": project.id, "title": "T"}, format="json")

    assert response.status_code == 400
    assert "project" in response.json()["error"]["details"]
