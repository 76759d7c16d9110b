"""What each agent type does when it runs, in a workspace of its own that is removed afterwards."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from apps.projects.repositories import validate_repository_url

from . import analysis, services
from .delegation import delegate
from .models import Agent, Report

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


@contextmanager
def workspace() -> Iterator[Path]:
    """A private directory under the data directory for one run's checkout."""
    root = Path(settings.DATA_DIR) / "agent-workspaces"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def repository_of(agent: Agent) -> str:
    """The project's repository URL, checked again: the allowed roots may have changed since it was saved."""
    url = agent.project.repository_url
    validate_repository_url(url)
    return url


def analyze_code(agent: Agent, progress: Progress) -> dict[str, Any]:
    """code_analyzer: lint findings, complexity and maintainability, line counts per language, a quality score."""
    checkpoint = progress.raise_if_stopped
    branch = agent.config.get("branch") or agent.project.default_branch
    with workspace() as path:
        progress(5, step="fetch", message=f"Fetching {branch}.")
        analysis.fetch(repository_of(agent), {"head": branch}, path, checkpoint=checkpoint, shallow=True)
        files = analysis.source_files(path)
        progress(30, step="count", message=f"Counting lines in {len(files)} files.")
        languages = analysis.line_counts(files, path)
        progress(45, step="lint", message="Linting with ruff.")
        findings = analysis.lint(path, checkpoint=checkpoint)
        progress(65, step="complexity", message="Measuring complexity with radon.")
        complexity = analysis.complexity(files, path, checkpoint=checkpoint)
        security = []
        if agent.config.get("security"):
            progress(80, step="security", message="Looking for security issues with bandit.")
            python = [analysis.relative(f, path) for f in files if f.suffix == ".py"]
            security = analysis.security(path, python, checkpoint=checkpoint)
    score = analysis.quality_score(python_lines=languages.get("Python", {}).get("lines", 0),
                                   lint_findings=len(findings), complexity_report=complexity,
                                   security_findings=len(security))
    report = {"branch": branch, "quality_score": score, "languages": languages,
              "lint": {"count": len(findings), "findings": findings}, "complexity": complexity,
              "security": {"count": len(security), "findings": security}}
    services.report_store(agent, kind=Report.Kind.ANALYSIS, quality_score=score, body=report)
    progress(100, step="done", message=f"Quality score {score}: {len(findings)} lint findings.")
    return report


def review_changes(agent: Agent, progress: Progress) -> dict[str, Any]:
    """pr_reviewer: the changed lines of `head` since `base`, at the configured level."""
    checkpoint = progress.raise_if_stopped
    config = agent.config
    level = config["level"]
    with workspace() as path:
        progress(5, step="fetch", message=f"Fetching {config['base']} and {config['head']}.")
        analysis.fetch(repository_of(agent), {"base": config["base"], "head": config["head"]}, path,
                       checkpoint=checkpoint)
        changed = analysis.changed_lines(path, checkpoint=checkpoint)
        python = sorted(name for name in changed if name.endswith(".py"))
        progress(30, step="lint", message=f"Reviewing {len(changed)} changed files.")
        rules = analysis.LINT_RULES if level == "quick" else f"{analysis.LINT_RULES},{analysis.PERFORMANCE_RULES}"
        findings = on_changed_lines(analysis.lint(path, python, rules=rules, checkpoint=checkpoint), changed)
        complexity = {"maintainability_index": 100.0, "complex_functions": []}
        if level != "quick":
            progress(55, step="complexity", message="Measuring complexity of the changed functions.")
            complexity = analysis.complexity([path / name for name in python], path, checkpoint=checkpoint)
            complexity["complex_functions"] = [block for block in complexity["complex_functions"]
                                               if touches(block, changed)]
        security = []
        if level == "thorough":
            progress(75, step="security", message="Looking for security issues with bandit.")
            security = on_changed_lines(analysis.security(path, python, checkpoint=checkpoint), changed)
    review = review_of(level=level, changed=changed, findings=findings, complexity=complexity, security=security)
    services.report_store(agent, kind=Report.Kind.REVIEW, quality_score=review["code_quality_score"], body=review)
    progress(100, step="done", message=review["summary"])
    return review


def on_changed_lines(findings: list[dict[str, Any]], changed: dict[str, set[int]]) -> list[dict[str, Any]]:
    return [finding for finding in findings if finding["line"] in changed.get(finding["file"], ())]


def touches(block: dict[str, Any], changed: dict[str, set[int]]) -> bool:
    lines = changed.get(block["file"], set())
    return any(block["line"] <= line <= block["end_line"] for line in lines)


def review_of(*, level: str, changed: dict[str, set[int]], findings: list[dict[str, Any]],
              complexity: dict[str, Any], security: list[dict[str, Any]]) -> dict[str, Any]:
    """The gateway summary's review: summary, approval status, line comments, security and performance issues,
    a code quality score."""
    performance = [f for f in findings if f["code"].startswith("PERF")]
    comments = [{"file": f["file"], "line": f["line"], "body": f"{f['code']}: {f['message']}"}
                for f in findings if not f["code"].startswith("PERF")]
    comments += [{"file": b["file"], "line": b["line"],
                  "body": f"{b['name']} has cyclomatic complexity {b['complexity']}; consider splitting it."}
                 for b in complexity["complex_functions"]]
    lines = sum(len(lines) for name, lines in changed.items() if name.endswith(".py"))
    score = analysis.quality_score(python_lines=lines, lint_findings=len(findings), complexity_report=complexity,
                                   security_findings=len(security))
    blocking = security or any(f["code"].startswith(("E9", "F")) for f in findings)
    status = "changes_requested" if blocking else ("commented" if comments or performance else "approved")
    summary = (f"{level.capitalize()} review of {len(changed)} changed files ({lines} changed Python lines): "
               f"{len(comments)} comments, {len(security)} security issues, {len(performance)} performance issues.")
    return {"level": level, "summary": summary, "approval_status": status, "comments": comments,
            "security_issues": security, "performance_issues": performance, "code_quality_score": score,
            "files_changed": len(changed)}


RUNNERS = {Agent.Type.CODE_ANALYZER: analyze_code, Agent.Type.PR_REVIEWER: review_changes,
           Agent.Type.ISSUE_RESOLVER: delegate, Agent.Type.CUSTOM: delegate}
