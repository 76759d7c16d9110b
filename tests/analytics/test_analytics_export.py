"""The export runs on a real worker and its file is downloaded from the link the API gave."""
import csv
import io

from apps.issues.models import Issue
from apps.projects.models import Project
from tests.repositories import GITHUB_URL
from tests.workers import job_in, wait_for


def test_a_csv_export_holds_every_series_of_the_range(workers, user_client, user, tenant):
    project = Project.objects.create(tenant=tenant, owner=user, name="P", repository_url=GITHUB_URL)
    Issue.objects.create(tenant=tenant, owner=user, project=project, title="Done", status="resolved")
    Issue.objects.filter(title="Done").update(resolved_at=Issue.objects.get(title="Done").created_at)

    response = user_client.get("/api/v1/analytics/export/?file_format=csv&range=week")
    assert response.status_code == 202, response.json()
    started = response.json()
    wait_for(lambda: job_in(started["job"], "succeeded", "failed"), timeout=60, what="the export")
    download = user_client.get(started["download_url"])

    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert {row["series"] for row in rows} == {"issues_resolved", "prs_reviewed", "agent_executions",
                                               "quality_scores", "response_times"}
    assert sum(int(row["value"]) for row in rows if row["series"] == "issues_resolved") == 1
