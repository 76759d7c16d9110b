"""Agents running for real: a worker cluster fetches a git repository made by the test and runs ruff, radon and
bandit on it; the findings the test planted come back, and only those."""
import time

import pytest

from apps.agents.models import Agent, Report
from apps.events.models import Event
from apps.jobs.models import Job
from tests.repositories import commit, make_git_repository
from tests.workers import job_in, wait_for

CLEAN = "def add(a, b):\n    return a + b\n"
#: Two findings for ruff's default rules: an unused import (F401) and an undefined name (F821).
PLANTED_LINT = "import os\n\n\ndef greet(name):\n    return f'Hello {nam}'\n"
#: bandit B602 (subprocess with shell=True) on the base branch, outside the pull request's changes.
OLD_SECURITY_ISSUE = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
#: bandit B307 (eval) added by the pull request.
NEW_SECURITY_ISSUE = "def evaluate(expression):\n    return eval(expression)\n"


def create_project(client, path) -> int:
    response = client.post("/api/v1/projects/", {"name": "Widgets", "repository_url": path}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def run_agent(client, project_id, agent_type, config) -> dict:
    agent = client.post("/api/v1/agents/", {"project": project_id, "name": "Run", "type": agent_type,
                                            "config": config}, format="json").json()
    assert client.post(f"/api/v1/agents/{agent['id']}/start/").status_code == 202
    wait_for(lambda: Agent.objects.filter(pk=agent["id"], status__in=["completed", "failed"]).exists(),
             timeout=60, what="the agent to finish")
    return client.get(f"/api/v1/agents/{agent['id']}/").json()


def test_a_code_analyzer_reports_the_lint_findings_planted_in_the_repository(workers, user_client,
                                                                               repository_root):
    path = make_git_repository(repository_root / "widgets", {"clean.py": CLEAN, "greet.py": PLANTED_LINT,
                                                                "README.md": "# Widgets\n\nA project.\n"})
    project_id = create_project(user_client, path)

    agent = run_agent(user_client, project_id, "code_analyzer", {})

    assert agent["status"] == "completed", agent["error"]
    report = agent["result"]
    assert sorted((f["file"], f["line"], f["code"]) for f in report["lint"]["findings"]) == [
        ("greet.py", 1, "F401"), ("greet.py", 5, "F821")]
    assert report["languages"] == {"Markdown": {"files": 1, "lines": 2}, "Python": {"files": 2, "lines": 5}}
    assert report["complexity"]["functions"] == 2
    assert 0 <= report["quality_score"] < 100
    stored = Report.objects.get(agent_id=agent["id"])
    assert (stored.kind, stored.quality_score) == ("analysis", report["quality_score"])
    assert Job.objects.get(pk=agent["job"]).status == "succeeded"
    types = list(Event.objects.filter(resource="agents").order_by("occurred_at").values_list("type", flat=True))
    assert types == ["agents.created", "agents.start", "agents.running", "agents.completed"]
    assert Event.objects.get(type="agents.completed").data["result"]["quality_score"] == report["quality_score"]


def test_a_thorough_review_finds_the_security_issue_in_the_changed_lines_only(workers, user_client,
                                                                                repository_root):
    path = repository_root / "service"
    make_git_repository(path, {"runner.py": OLD_SECURITY_ISSUE})
    commit(path, {"calc.py": NEW_SECURITY_ISSUE}, branch="feature")
    project_id = create_project(user_client, str(path))

    agent = run_agent(user_client, project_id, "pr_reviewer", {"level": "thorough", "base": "main",
                                                               "head": "feature"})

    assert agent["status"] == "completed", agent["error"]
    review = agent["result"]
    assert [(issue["file"], issue["line"], issue["code"]) for issue in review["security_issues"]] == [
        ("calc.py", 2, "B307")]
    assert review["approval_status"] == "changes_requested"
    assert review["files_changed"] == 1
    assert {"summary", "comments", "performance_issues", "code_quality_score"} <= set(review)


def test_a_quick_review_of_clean_changes_approves_them(workers, user_client, repository_root):
    path = repository_root / "clean"
    make_git_repository(path, {"base.py": CLEAN})
    commit(path, {"more.py": CLEAN.replace("add", "plus")}, branch="feature")
    project_id = create_project(user_client, str(path))

    review = run_agent(user_client, project_id, "pr_reviewer", {"level": "quick", "base": "main",
                                                                "head": "feature"})["result"]

    assert (review["approval_status"], review["comments"], review["security_issues"]) == ("approved", [], [])


def test_a_missing_branch_fails_the_run_with_a_readable_error(workers, user_client, repository_root):
    path = make_git_repository(repository_root / "repo", {"a.py": CLEAN})
    project_id = create_project(user_client, path)

    agent = run_agent(user_client, project_id, "code_analyzer", {"branch": "no-such-branch"})

    assert agent["status"] == "failed"
    assert "git fetch failed" in agent["error"]


def test_cancel_stops_a_running_agent_within_two_seconds(workers, user_client, repository_root):
    files = {f"module_{i}.py": OLD_SECURITY_ISSUE * 20 for i in range(400)}
    path = make_git_repository(repository_root / "big", files)
    project_id = create_project(user_client, path)
    agent = user_client.post("/api/v1/agents/", {"project": project_id, "name": "Slow", "type": "code_analyzer",
                                                 "config": {"security": True}}, format="json").json()
    user_client.post(f"/api/v1/agents/{agent['id']}/start/")
    wait_for(lambda: Agent.objects.filter(pk=agent["id"], status="running").exists(), timeout=30,
             what="the agent to run")

    requested = time.monotonic()
    assert user_client.post(f"/api/v1/agents/{agent['id']}/cancel/").status_code == 200
    wait_for(lambda: Agent.objects.filter(pk=agent["id"], status="cancelled").exists(), timeout=10,
             what="the agent to stop")
    stopped_after = time.monotonic() - requested

    assert stopped_after < 2, f"stopped {stopped_after:.2f} s after the cancel request"
    # The agent is recorded cancelled in the transaction that ends its job (the job type's on_end).
    assert wait_for(lambda: job_in(Agent.objects.get(pk=agent["id"]).job_id, "cancelled"), timeout=5,
                    what="the run's job to be cancelled")
