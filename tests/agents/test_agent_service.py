"""issue_resolver runs round-trip through an external agent service (a local one here): Tessera POSTs the run
with its bearer secret, the service reports back with the API key of an `agent`-role account, which may report
on the runs handed to it and do nothing else."""
import time

import pytest

from apps.accounts.models import User
from apps.accounts.scopes import AGENT_SCOPES, role_scopes
from apps.accounts.services import api_key_create
from apps.agents.models import Agent
from apps.issues.models import Issue
from apps.jobs.models import JobLog
from apps.projects.models import Project
from tests.agents.agent_service import AgentService
from tests.repositories import GITHUB_URL
from tests.workers import AGENT_SERVICE, wait_for


@pytest.fixture
def service_account(transactional_db):
    account = User.objects.create_user(email=AGENT_SERVICE["SERVICE_ACCOUNT"], role=User.Role.AGENT)
    return account, api_key_create(user=account, name="service", scopes=sorted(AGENT_SCOPES),
                                   allowed=role_scopes(account.role)).secret


@pytest.fixture
def agent_settings(settings):
    settings.TESSERA_AGENTS = AGENT_SERVICE


@pytest.fixture
def api_server(start_server, settings):
    return start_server(REDIS_URL=settings.REDIS_URL, **{f"AGENT_{k}": v for k, v in AGENT_SERVICE.items()})


@pytest.fixture
def issue(user, tenant):
    project = Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)
    return Issue.objects.create(tenant=tenant, owner=user, project=project, title="Crash on save",
                                description="Saving twice crashes.", labels=["bug"])


def serve(service_account, api_server, **options) -> AgentService:
    return AgentService(AGENT_SERVICE["SERVICE_URL"], secret=AGENT_SERVICE["SERVICE_SECRET"],
                        api_key=service_account[1], api_url=api_server.url, **options)


def test_an_assigned_issue_is_resolved_by_the_agent_service(workers, agent_settings, service_account, api_server,
                                                            user_client, issue):
    outcome = {"status": "completed", "result": {"resolved": True, "resolution": "Fixed in abc123."}}
    with serve(service_account, api_server, outcome=outcome) as service:
        response = user_client.post(f"/api/v1/issues/{issue.id}/assign/", {"instructions": "Be careful."},
                                    format="json")
        assert response.status_code == 202, response.json()
        assert response.json()["status"] == "in_progress"
        wait_for(lambda: Issue.objects.filter(pk=issue.pk, status="resolved").exists(), timeout=60,
                 what="the issue to be resolved")
        wait_for(lambda: len(service.reports) == 2, timeout=10, what="the service's last report to be answered")

    issue.refresh_from_db()
    assert issue.resolution == "Fixed in abc123."
    run = service.runs[0]
    assert run["run"]["type"] == "issue_resolver"
    assert run["run"]["config"] == {"issue": issue.pk, "instructions": "Be careful."}
    assert run["run"]["context"]["issue"]["title"] == "Crash on save"
    assert run["project"]["repository_url"] == GITHUB_URL
    assert [status for status, _ in service.reports] == [200, 200]
    agent = Agent.objects.get(pk=issue.agent_id)
    assert (agent.status, agent.result["resolved"]) == ("completed", True)
    assert [line.message for line in JobLog.objects.filter(job=agent.job)][-2:] == ["Read the issue.", "Done."]
    assert agent.job.status == "succeeded"


def test_a_failed_run_opens_the_issue_again(workers, agent_settings, service_account, api_server, user_client,
                                            issue):
    with serve(service_account, api_server, outcome={"status": "failed", "error": "Could not reproduce."}):
        user_client.post(f"/api/v1/issues/{issue.id}/assign/", {}, format="json")
        wait_for(lambda: Agent.objects.filter(status="failed").exists(), timeout=60, what="the run to fail")

    assert Issue.objects.get(pk=issue.pk).status == "open"
    assert Agent.objects.get().error == "Could not reproduce."


def test_a_cancelled_run_stops_within_two_seconds_and_the_service_is_told_by_a_404(
        workers, agent_settings, service_account, api_server, user_client, issue):
    with serve(service_account, api_server, outcome={"status": "completed", "result": {}},
               work_seconds=60) as service:
        user_client.post(f"/api/v1/issues/{issue.id}/assign/", {}, format="json")
        agent_id = Issue.objects.get(pk=issue.pk).agent_id
        wait_for(lambda: len(service.reports) >= 2, timeout=60, what="the service to be working")

        requested = time.monotonic()
        assert user_client.post(f"/api/v1/agents/{agent_id}/cancel/").status_code == 200
        wait_for(lambda: Agent.objects.filter(pk=agent_id, status="cancelled").exists(), timeout=10,
                 what="the run to stop")
        stopped_after = time.monotonic() - requested
        wait_for(lambda: service.reports[-1][0] == 404, timeout=10, what="the service to be told")

    assert stopped_after < 2, f"stopped {stopped_after:.2f} s after the cancel request"


def test_the_service_account_reports_on_no_run_but_its_own_and_reads_nothing(
        agent_settings, service_account, api_server, user, tenant, issue):
    account, key = service_account
    other = Agent.objects.create(tenant=tenant, owner=user, project=issue.project, name="Mine",
                                 type="code_analyzer", status="running")
    headers = {"X-API-Key": key, "Content-Type": "application/json"}

    report = api_server.request("POST", f"/api/v1/agent-runs/{other.pk}/report", body=b'{"progress": 5}',
                                headers=headers)
    listing = api_server.request("GET", "/api/v1/projects/", headers={**headers, "X-Tenant-ID": str(tenant.pk)})
    issues = api_server.request("GET", "/api/v1/issues/", headers=headers)

    assert report[0] == 404
    assert listing[0] == 403 and issues[0] == 403
    assert role_scopes(account.role) == AGENT_SCOPES


def test_a_user_cannot_report_on_runs(user_client, issue, user, tenant, agent_settings):
    agent = Agent.objects.create(tenant=tenant, owner=user, project=issue.project, name="R", type="custom",
                                 config={"instructions": "x"}, status="running", delegated_to=user)

    response = user_client.post(f"/api/v1/agent-runs/{agent.pk}/report", {"progress": 5}, format="json")

    assert response.status_code == 403
