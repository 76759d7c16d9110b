"""The operator console's issue action: assign to a resolver agent, through the same service as POST
/issues/{id}/assign/, each selected issue reported: assigned, or why not."""
import pytest

from apps.issues.models import Issue
from apps.projects.models import Project
from tests.repositories import GITHUB_URL
from tests.workers import AGENT_SERVICE

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/issues/issue/"


@pytest.fixture
def project(user, tenant):
    return Project.objects.create(tenant=tenant, owner=user, name="Widgets", repository_url=GITHUB_URL)


@pytest.fixture
def open_issue(project, user, tenant):
    return Issue.objects.create(tenant=tenant, owner=user, project=project, title="Crash on save")


@pytest.fixture
def resolved_issue(project, user, tenant):
    return Issue.objects.create(tenant=tenant, owner=user, project=project, title="Typo", status="resolved")


def run_action(client, *issues):
    response = client.post(CHANGELIST, {"action": "assign", "_selected_action": [issue.pk for issue in issues]},
                           follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_assign_starts_a_resolver_the_issues_owner_owns_and_says_why_a_resolved_issue_is_not_assigned(
        console, settings, admin_user, user, open_issue, resolved_issue):
    settings.TESSERA_AGENTS = AGENT_SERVICE

    messages = run_action(console, open_issue, resolved_issue)

    assert messages == ["Crash on save: assigned; its resolver run is queued.",
                        "Typo: A resolved issue cannot be assigned; reopen it first."]
    open_issue.refresh_from_db()
    assert open_issue.status == "in_progress"
    assert (open_issue.agent.type, open_issue.agent.owner, open_issue.agent.status) == ("issue_resolver", user,
                                                                                        "pending")
    assert (open_issue.agent.job.status, open_issue.agent.job.created_by) == ("queued", admin_user)
    resolved_issue.refresh_from_db()
    assert (resolved_issue.status, resolved_issue.agent) == ("resolved", None)


def test_without_an_agent_service_assigning_is_a_message_naming_the_reason(console, open_issue):
    messages = run_action(console, open_issue)

    assert len(messages) == 1 and messages[0].startswith("Crash on save: Invalid input. type: ")
    open_issue.refresh_from_db()
    assert (open_issue.status, open_issue.agent) == ("open", None)
