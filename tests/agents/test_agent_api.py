"""Agents over HTTP, without workers: typed configs, the lifecycle verbs' answers, logs, isolation and limits."""
import pytest

from apps.agents.models import Agent
from apps.jobs.models import Job, JobLog
from apps.projects.models import Project
from tests.conftest import CANARY
from tests.repositories import GITHUB_URL

pytestmark = pytest.mark.django_db


def create(client, project, **body):
    return client.post("/api/v1/agents/", {"project": project.id, "name": "A", "type": "code_analyzer", **body},
                       format="json")


def test_an_agent_is_created_pending_with_its_config_cleaned(user_client, project, user):
    response = create(user_client, project, config={"branch": "develop"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["job"], body["config"]) == ("pending", None, {"branch": "develop",
                                                                              "security": False})
    assert Agent.objects.get(pk=body["id"]).owner == user


def test_a_reviewer_needs_base_and_head_and_a_known_level(user_client, project):
    response = create(user_client, project, type="pr_reviewer", config={"level": "extreme"})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"config.level", "config.base", "config.head"}


def test_an_unknown_config_key_is_refused_by_name(user_client, project):
    response = create(user_client, project, config={"branch": "main", "depth": 3})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"config.depth": ["Unknown field."]}
    assert not Agent.objects.exists()


@pytest.mark.parametrize("agent_type", ["issue_resolver", "custom"])
def test_types_this_deployment_cannot_run_are_refused(user_client, project, agent_type):
    response = create(user_client, project, type=agent_type)

    assert response.status_code == 400
    assert "type" in response.json()["error"]["details"]


def test_a_project_the_caller_cannot_see_is_refused_like_a_missing_one(user_client, second_user, tenant,
                                                                         other_user, other_tenant):
    theirs = Project.objects.create(tenant=tenant, owner=second_user, name="Theirs", repository_url=GITHUB_URL)
    elsewhere = Project.objects.create(tenant=other_tenant, owner=other_user, name=CANARY, repository_url=GITHUB_URL)

    for project in (theirs, elsewhere):
        response = create(user_client, project)
        assert response.status_code == 400
        assert "project" in response.json()["error"]["details"]
        assert CANARY not in response.content.decode()
    assert not Agent.objects.exists()


def test_start_queues_a_run(user_client, analyzer, handed_over, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    job = Job.objects.get(pk=body["job"])
    assert (job.type, job.params, job.status) == ("agents.run", {"agent_id": analyzer.id}, "queued")
    assert handed_over == [job.pk]


def test_starting_a_queued_agent_is_a_conflict(user_client, analyzer):
    user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    response = user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    assert response.status_code == 409
    assert Job.objects.count() == 1


def test_an_agent_of_a_disabled_project_does_not_start(user_client, analyzer, project):
    Project.objects.filter(pk=project.pk).update(enabled=False)

    assert user_client.post(f"/api/v1/agents/{analyzer.id}/start/").status_code == 409
    assert not Job.objects.exists()


def test_cancelling_a_queued_agent_cancels_it_at_once(user_client, analyzer):
    user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    response = user_client.post(f"/api/v1/agents/{analyzer.id}/cancel/")

    assert response.status_code == 200
    analyzer.refresh_from_db()
    assert (analyzer.status, analyzer.job.status) == ("cancelled", "cancelled")


def test_cancelling_an_agent_that_never_ran_is_a_conflict(user_client, analyzer):
    assert user_client.post(f"/api/v1/agents/{analyzer.id}/cancel/").status_code == 409


def test_a_queued_agent_can_be_neither_changed_nor_deleted(user_client, analyzer):
    user_client.post(f"/api/v1/agents/{analyzer.id}/start/")

    assert user_client.patch(f"/api/v1/agents/{analyzer.id}/", {"name": "B"}, format="json").status_code == 409
    assert user_client.delete(f"/api/v1/agents/{analyzer.id}/").status_code == 409
    assert Agent.objects.filter(pk=analyzer.pk, name="Lint").exists()


def test_changing_the_type_revalidates_the_config(user_client, analyzer):
    response = user_client.patch(f"/api/v1/agents/{analyzer.id}/", {"type": "pr_reviewer"}, format="json")

    assert response.status_code == 400
    assert "config.base" in response.json()["error"]["details"]


def test_logs_are_filtered_by_level_in_any_case_and_limited(user_client, analyzer):
    user_client.post(f"/api/v1/agents/{analyzer.id}/start/")
    analyzer.refresh_from_db()
    for level, message in [("info", "one"), ("warning", "two"), ("error", "three"), ("info", "four")]:
        JobLog.objects.create(job=analyzer.job, level=level, message=message)

    warnings = user_client.get(f"/api/v1/agents/{analyzer.id}/logs/?level=WARNING").json()
    first_two = user_client.get(f"/api/v1/agents/{analyzer.id}/logs/?limit=2").json()

    assert [line["message"] for line in warnings] == ["two", "three"]
    assert [line["message"] for line in first_two] == ["one", "two"]
    assert set(first_two[0]) == {"timestamp", "level", "step", "message", "progress"}


def test_a_bad_log_level_is_refused_by_name(user_client, analyzer):
    response = user_client.get(f"/api/v1/agents/{analyzer.id}/logs/?level=LOUD")

    assert response.status_code == 400
    assert "level" in response.json()["error"]["details"]


@pytest.mark.parametrize("method,path", [
    ("get", ""), ("patch", ""), ("delete", ""), ("post", "start/"), ("post", "cancel/"), ("get", "logs/"),
])
def test_another_tenants_agent_is_not_found_on_every_route(user_client, other_tenant_agent, method, path):
    response = getattr(user_client, method)(f"/api/v1/agents/{other_tenant_agent.id}/{path}", {}, format="json")

    assert response.status_code == 404
    assert CANARY not in response.content.decode()


def test_a_viewer_reads_agents_but_cannot_start_them(viewer_client, analyzer):
    assert viewer_client.get("/api/v1/agents/").status_code == 200
    assert viewer_client.post(f"/api/v1/agents/{analyzer.id}/start/").status_code in (403, 404)
