"""The analysers agents run on a repository: real tools over a real checkout, no code from it executed.

`fetch` checks refs out into a workspace with git; `lint` (ruff), `complexity` (radon), `security` (bandit) and
`line_counts` read it. Every external tool runs through `run_tool`, which kills it as soon as the job is cancelled,
so a cancel request stops an agent within the job engine's heartbeat (about a second).
"""
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from radon.complexity import cc_visit
from radon.metrics import mi_visit

#: Called between steps and while a tool runs; raises to stop the run (the job's `raise_if_stopped`).
Checkpoint = Callable[[], None]

LANGUAGES = {
    ".py": "Python", ".js": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
    ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".rb": "Ruby", ".php": "PHP", ".c": "C",
    ".h": "C", ".cc": "C++", ".cpp": "C++", ".hpp": "C++", ".cs": "C#", ".swift": "Swift", ".sh": "Shell",
    ".html": "HTML", ".css": "CSS", ".scss": "CSS", ".md": "Markdown", ".rst": "reStructuredText",
    ".json": "JSON", ".yml": "YAML", ".yaml": "YAML", ".toml": "TOML", ".sql": "SQL",
}
#: ruff's default rules (syntax errors, undefined names, unused imports...), and its performance rules for reviews.
LINT_RULES = "E4,E7,E9,F"
PERFORMANCE_RULES = "PERF"
#: A function this complex (radon's cyclomatic complexity, rank C and worse) is reported.
COMPLEX = 11
TOOL_TIMEOUT = 600


class ToolFailed(Exception):
    """An analyser or git failed on the repository; the message is safe to show (no environment, no secrets)."""


def run_tool(label: str, args: list[str], *, cwd: Path, checkpoint: Checkpoint,
             timeout: float = TOOL_TIMEOUT) -> str:
    """Run a command in `cwd` and return its stdout, polling `checkpoint` while it runs and killing it when that
    raises (or after `timeout` seconds). `label` names it in errors."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "GIT_TERMINAL_PROMPT": "0",
           "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8"}
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waited = 0.0
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                checkpoint()
                waited += 0.2
                if waited > timeout:
                    raise ToolFailed(f"{label} took longer than {timeout:.0f} s.") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    if process.returncode != 0:
        last_line = (stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise ToolFailed(f"{label} failed: {last_line}")
    return stdout


def git(workspace: Path, *args: str, checkpoint: Checkpoint) -> str:
    # Only local paths and HTTPS: no ext::, ssh or git:// transports whatever the URL says.
    return run_tool(f"git {args[0]}", ["git", "-c", "protocol.allow=never", "-c", "protocol.file.allow=always",
                     "-c", "protocol.https.allow=always", *args], cwd=workspace, checkpoint=checkpoint)


def fetch(repository: str, refs: dict[str, str], workspace: Path, *, checkpoint: Checkpoint,
          shallow: bool = False) -> None:
    """Fetch each ref of `refs` (name -> branch or ref) into the workspace as `refs/tessera/<name>`, and check
    out the one named `head`."""
    git(workspace, "init", "-q", checkpoint=checkpoint)
    specs = [f"+{ref}:refs/tessera/{name}" for name, ref in refs.items()]
    git(workspace, "fetch", "-q", "--no-tags", *(["--depth", "1"] if shallow else []), repository, *specs,
        checkpoint=checkpoint)
    git(workspace, "checkout", "-q", "--detach", "refs/tessera/head", checkpoint=checkpoint)


def source_files(workspace: Path) -> list[Path]:
    """Tracked files of the checkout, relative to it."""
    return [workspace / name for name in git(workspace, "ls-files", "-z", checkpoint=lambda: None).split("\0")
            if name]


def line_counts(files: Iterable[Path], workspace: Path) -> dict[str, dict[str, int]]:
    """Files and non-blank lines per language (by extension); unreadable or binary files are skipped."""
    counts: dict[str, dict[str, int]] = {}
    for path in files:
        language = LANGUAGES.get(path.suffix.lower(), "Other")
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        entry = counts.setdefault(language, {"files": 0, "lines": 0})
        entry["files"] += 1
        entry["lines"] += sum(1 for line in text.splitlines() if line.strip())
    return dict(sorted(counts.items()))


def lint(workspace: Path, files: list[str] | None = None, *, rules: str = LINT_RULES,
         checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """ruff's findings as `{file, line, column, code, message}`, over the whole checkout or the given files."""
    output = run_tool("ruff", [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--exit-zero",
                       "--output-format", "json", "--select", rules, *(files or ["."])],
                      cwd=workspace, checkpoint=checkpoint)
    return [{"file": relative(item["filename"], workspace), "line": item["location"]["row"],
             "column": item["location"]["column"], "code": item["code"] or "syntax", "message": item["message"]}
            for item in json.loads(output or "[]")]


def complexity(files: Iterable[Path], workspace: Path, *, checkpoint: Checkpoint) -> dict[str, Any]:
    """radon's cyclomatic complexity per function and maintainability index per file, for Python files."""
    blocks, indexes = [], []
    for path in files:
        if path.suffix != ".py":
            continue
        checkpoint()
        try:
            code = path.read_text(encoding="utf-8")
            found = cc_visit(code)
            indexes.append(mi_visit(code, multi=True))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        blocks += [{"file": relative(path, workspace), "name": block.name, "line": block.lineno,
                    "end_line": block.endline, "complexity": block.complexity} for block in found]
    return {
        "functions": len(blocks),
        "average_complexity": round(sum(b["complexity"] for b in blocks) / len(blocks), 2) if blocks else 0.0,
        "maintainability_index": round(sum(indexes) / len(indexes), 2) if indexes else 100.0,
        "complex_functions": sorted((b for b in blocks if b["complexity"] >= COMPLEX),
                                    key=lambda b: -b["complexity"]),
    }


def security(workspace: Path, files: list[str], *, checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """bandit's findings in the given Python files as `{file, line, code, severity, confidence, message}`."""
    if not files:
        return []
    output = run_tool("bandit", [sys.executable, "-m", "bandit", "-q", "-f", "json", "--exit-zero", *files],
                      cwd=workspace, checkpoint=checkpoint)
    return [{"file": relative(item["filename"], workspace), "line": item["line_number"], "code": item["test_id"],
             "severity": item["issue_severity"].lower(), "confidence": item["issue_confidence"].lower(),
             "message": item["issue_text"]}
            for item in json.loads(output)["results"]]


HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_lines(workspace: Path, *, checkpoint: Checkpoint) -> dict[str, set[int]]:
    """Lines added or changed on `head` since it left `base` (the merge base), per file still present."""
    diff = git(workspace, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-renames",
               "refs/tessera/base...refs/tessera/head", checkpoint=checkpoint)
    changed: dict[str, set[int]] = {}
    current = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
        elif current and (hunk := HUNK.match(line)):
            start, count = int(hunk[1]), int(hunk[2] if hunk[2] is not None else 1)
            changed.setdefault(current, set()).update(range(start, start + count))
    return {name: lines for name, lines in changed.items() if lines}


def quality_score(*, python_lines: int, lint_findings: int, complexity_report: dict[str, Any],
                  security_findings: int = 0) -> float:
    """0–100: radon's maintainability index, less 10 points per lint finding per 100 Python lines (at most 40),
    5 per overly complex function (at most 30) and 10 per security finding (at most 30)."""
    density = 100 * lint_findings / python_lines if python_lines else 0
    score = (complexity_report["maintainability_index"] - min(40, 10 * density)
             - min(30, 5 * len(complexity_report["complex_functions"])) - min(30, 10 * security_findings))
    return round(max(0.0, min(100.0, score)), 1)


def relative(path: str | Path, workspace: Path) -> str:
    path = Path(path)
    return str(path.relative_to(workspace) if path.is_absolute() else path).removeprefix("./")
