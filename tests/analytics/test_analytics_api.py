"""Analytics: figures computed in the database over what the caller may see, never anyone else's."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.models import Agent, Report
from apps.analytics.models import AnalyticsEvent
from apps.issues.models import Issue
from apps.jobs.models import Job
from apps.projects.models import Project
from apps.pulls.models import PullRequest
from tests.repositories import GITHUB_URL

pytestmark = pytest.mark.django_db


def world(owner, tenant, *, issues=2, resolved=1):
    """A project with issues (some resolved an hour after opening), a reviewed pull request, an agent with two
    runs (one succeeded) and a report."""
    project = Project.objects.create(tenant=tenant, owner=owner, name="P", repository_url=GITHUB_URL)
    now = timezone.now()
    for n in range(issues):
        issue = Issue.objects.create(tenant=tenant, owner=owner, project=project, title=f"I{n}")
        if n < resolved:
            Issue.objects.filter(pk=issue.pk).update(status="resolved", resolved_at=now,
                                                     created_at=now - timedelta(hours=1))
    agent = Agent.objects.create(tenant=tenant, owner=owner, project=project, name="A", type="code_analyzer",
                                 status="completed", result={"approval_status": "approved"})
    for status in ("succeeded", "failed"):
        Job.objects.create(tenant=tenant, created_by=owner, type="agents.run", params={"agent_id": agent.pk},
                           status=status, started_at=now - timedelta(seconds=30), finished_at=now)
    Report.objects.create(tenant=tenant, project=project, agent=agent, kind="review", quality_score=80.0, body={})
    PullRequest.objects.create(tenant=tenant, owner=owner, project=project, number=1, reviewer=agent)
    return project, agent


def test_the_dashboard_sums_up_the_callers_own_figures(user_client, user, tenant, other_user, other_tenant,
                                                       second_user):
    world(user, tenant)
    world(other_user, other_tenant, issues=5, resolved=5)
    world(second_user, tenant, issues=7, resolved=0)

    body = user_client.get("/api/v1/analytics/dashboard/").json()

    assert body["projects"] == {"total": 1, "enabled": 1}
    assert body["issues"]["total"] == 2 and body["issues"]["by_status"]["resolved"] == 1
    assert body["issues"]["mean_time_to_resolve_seconds"] == pytest.approx(3600)
    assert body["pull_requests"]["reviewed"] == 1
    assert body["agent_executions"]["total"] == 2 and body["agent_executions"]["success_rate"] == 0.5
    assert body["agent_executions"]["mean_duration_seconds"] == pytest.approx(30)
    assert body["quality"] == {"reports": 1, "mean_score": 80.0, "latest_score": 80.0}


def test_project_and_agent_metrics(user_client, user, tenant):
    project, agent = world(user, tenant)

    by_project = user_client.get(f"/api/v1/analytics/projects/{project.id}/").json()
    by_agent = user_client.get(f"/api/v1/analytics/agents/{agent.id}/").json()

    assert by_project["issues"]["total"] == 2 and by_project["agent_executions"]["total"] == 2
    assert by_agent["executions"]["by_status"]["succeeded"] == 1
    assert by_agent["quality"]["mean_score"] == 80.0


def test_another_tenants_project_and_agent_are_not_found(user_client, other_user, other_tenant):
    project, agent = world(other_user, other_tenant)

    assert user_client.get(f"/api/v1/analytics/projects/{project.id}/").status_code == 404
    assert user_client.get(f"/api/v1/analytics/agents/{agent.id}/").status_code == 404


@pytest.mark.parametrize("range_name,interval,points", [("day", "hour", (24, 25)), ("week", "day", (7, 8)),
                                                        ("month", "day", (30, 31)), ("quarter", "week", (13, 15)),
                                                        ("year", "month", (12, 13))])
def test_timeseries_have_one_point_per_bucket_of_the_range(user_client, user, tenant, range_name, interval,
                                                           points):
    world(user, tenant, issues=3, resolved=3)

    body = user_client.get(f"/api/v1/analytics/timeseries/issues_resolved/?range={range_name}").json()

    assert (body["type"], body["range"], body["interval"]) == ("issues_resolved", range_name, interval)
    assert points[0] <= len(body["points"]) <= points[1]
    assert sum(point["value"] for point in body["points"]) == 3
    assert body["points"][-1]["value"] == 3


def test_averaged_series_leave_empty_buckets_null(user_client, user, tenant):
    world(user, tenant)

    quality = user_client.get("/api/v1/analytics/timeseries/quality_scores/?range=week").json()["points"]
    response = user_client.get("/api/v1/analytics/timeseries/response_times/?range=week").json()["points"]

    assert [p["value"] for p in quality if p["value"] is not None] == [80.0]
    assert [p["value"] for p in response if p["value"] is not None] == [pytest.approx(3600)]
    assert quality[0]["value"] is None


def test_an_unknown_series_is_404_and_an_unknown_range_400(user_client):
    assert user_client.get("/api/v1/analytics/timeseries/bananas/").status_code == 404
    response = user_client.get("/api/v1/analytics/timeseries/prs_reviewed/?range=decade")
    assert response.status_code == 400 and "range" in response.json()["error"]["details"]


def test_performance_reports_request_latency_percentiles_and_job_throughput(user_client, user, tenant):
    world(user, tenant)
    for _ in range(3):
        user_client.get("/api/v1/analytics/dashboard/")

    body = user_client.get("/api/v1/analytics/performance/").json()

    assert body["requests"]["requests"] >= 3
    assert 0 < body["requests"]["p50_seconds"] <= body["requests"]["p99_seconds"]
    assert body["jobs"]["finished_last_hour"] == 2


def test_custom_events_are_validated_counted_and_listed(user_client, other_user, other_tenant):
    AnalyticsEvent.objects.create(tenant=other_tenant, user=other_user, name="deploy.finished")

    created = user_client.post("/api/v1/analytics/events/", {"name": "deploy.finished",
                                                            "properties": {"env": "prod"}}, format="json")
    refused = user_client.post("/api/v1/analytics/events/", {"name": "Bad Name!", "properties": []},
                               format="json")

    assert created.status_code == 201, created.json()
    assert refused.status_code == 400
    assert set(refused.json()["error"]["details"]) == {"name", "properties"}
    assert user_client.get("/api/v1/analytics/dashboard/").json()["events_last_30_days"] == {"deploy.finished": 1}
    assert [e["name"] for e in user_client.get("/api/v1/analytics/").json()["results"]] == ["deploy.finished"]


def test_export_starts_a_background_job_with_a_download_link(user_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.get("/api/v1/analytics/export/?file_format=json&range=week")

    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.type, job.params) == ("analytics.export", {"format": "json", "range": "week"})
    assert response.json()["download_url"].endswith(f"/api/v1/jobs/{job.pk}/file")


def test_a_viewer_reads_figures_but_reports_no_events(viewer_client):
    assert viewer_client.get("/api/v1/analytics/dashboard/").status_code == 200
    assert viewer_client.post("/api/v1/analytics/events/", {"name": "x"}, format="json").status_code == 403


def test_export_is_limited_to_five_a_minute(user_client):
    statuses = [user_client.get("/api/v1/analytics/export/").status_code for _ in range(6)]

    assert statuses == [202] * 5 + [429]
