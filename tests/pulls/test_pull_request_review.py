"""A review started on a tracked pull request runs on a real worker and reports what its changed lines hold."""
from apps.projects.models import Project
from apps.pulls.models import PullRequest
from tests.repositories import commit, make_git_repository
from tests.workers import wait_for

OUTSIDE = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
INSIDE = "def evaluate(expression):\n    return eval(expression)\n"


def test_a_thorough_review_reports_the_security_issue_the_pull_request_adds(workers, user_client, user, tenant,
                                                                            repository_root):
    path = repository_root / "service"
    make_git_repository(path, {"runner.py": OUTSIDE})
    commit(path, {"calc.py": INSIDE}, branch="feature")
    project = Project.objects.create(tenant=tenant, owner=user, name="Service", repository_url=str(path))
    pull = PullRequest.objects.create(tenant=tenant, owner=user, project=project, base="main", head="feature")

    assert user_client.post(f"/api/v1/prs/{pull.id}/review/", {"level": "thorough"}, format="json").status_code \
        == 202
    wait_for(lambda: user_client.get(f"/api/v1/prs/{pull.id}/review/").json()["status"] in ("completed", "failed"),
             timeout=60, what="the review")

    latest = user_client.get(f"/api/v1/prs/{pull.id}/review/").json()
    assert latest["status"] == "completed"
    assert [(i["file"], i["line"], i["code"]) for i in latest["review"]["security_issues"]] == [
        ("calc.py", 2, "B307")]
