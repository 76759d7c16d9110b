"""The operator console's agent actions: start and cancel call the same services as the API's verbs, on agents of
every tenant, and report each selected agent: done, or why not."""
import pytest
from django.contrib.auth.models import Permission

from apps.agents.models import Agent
from apps.jobs.models import Job
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/agents/agent/"


def run_action(client, action: str, *agents):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [agent.pk for agent in agents]},
                           follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_start_queues_a_run_of_each_selected_agent_of_any_tenant(console, admin_user, analyzer,
                                                                  other_tenant_agent):
    messages = run_action(console, "start", analyzer, other_tenant_agent)

    assert messages == ["Lint (code_analyzer): run queued.", "Theirs (code_analyzer): run queued."]
    for agent in (analyzer, other_tenant_agent):
        agent.refresh_from_db()
        assert (agent.status, agent.job.status, agent.job.type) == ("pending", "queued", "agents.run")
        assert (agent.job.tenant, agent.job.created_by) == (agent.tenant, admin_user)


def test_starting_a_queued_agent_is_a_message_and_the_others_still_start(console, analyzer, other_tenant_agent):
    run_action(console, "start", analyzer)

    messages = run_action(console, "start", analyzer, other_tenant_agent)

    assert messages == ["Lint (code_analyzer): This agent is already queued or running.",
                        "Theirs (code_analyzer): run queued."]
    assert Job.objects.filter(type="agents.run").count() == 2


def test_cancel_stops_a_queued_agent_and_says_why_one_that_never_ran_cannot_be(console, analyzer,
                                                                              other_tenant_agent):
    run_action(console, "start", analyzer)

    messages = run_action(console, "cancel", analyzer, other_tenant_agent)

    assert messages == ["Lint (code_analyzer): cancelled, or asked to stop.",
                        "Theirs (code_analyzer): A pending agent cannot be cancelled."]
    analyzer.refresh_from_db()
    assert (analyzer.status, analyzer.job.status) == ("cancelled", "cancelled")
    other_tenant_agent.refresh_from_db()
    assert (other_tenant_agent.status, other_tenant_agent.job) == ("pending", None)


def test_staff_who_may_only_view_agents_are_not_offered_the_actions(client, analyzer):
    viewer = make_user("staff@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    response = client.post(CHANGELIST, {"action": "start", "_selected_action": [analyzer.pk]}, follow=True)

    assert 'value="start"' not in page and 'value="cancel"' not in page
    assert Agent.objects.get(pk=analyzer.pk).job is None
    assert response.status_code == 200
