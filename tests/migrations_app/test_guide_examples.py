"""The user guide's own examples, copied verbatim into guide_examples/, run against live servers and end on
`completed`: its Python "Basic API Usage" and its SDK section against `make serve`'s stack, its curl call with an
API key, and its JavaScript WebSocket snippet in a real browser.

Only what ties an example to the guide author's machine is replaced before it runs, each exactly once: the server
address (`http://localhost:8000`), the credential placeholders, and the `source` and `destination` of its config,
which become two local directories (the guide's WordPress server and S3 bucket are not on this machine). Everything
else, the transfer and safety options included, runs as printed.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from config.serve.production import nginx_executable
from tests.browsers import chromium_page, require_browser
from tests.conftest import PASSWORD
from tests.servers import ServerProcess
from tests.workers import cluster_environment

from .conftest import build_tree, checksums

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parent / "guide_examples"
GUIDE_URL = "http://localhost:8000"


@pytest.fixture(scope="module")
def stack(django_db_setup, migration_root):
    """`make serve`'s processes (nginx, granian, uvicorn and a worker cluster), confined to the session's
    temporary directory like the session's workers, started once for the module."""
    if not nginx_executable() and not os.environ.get("TESSERA_REQUIRE_SERVICES"):
        pytest.skip("nginx is not installed (`make serve` installs Debian's package; CI requires it).")
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("The stack's processes share state only through PostgreSQL and Redis.")
    server = ServerProcess(cluster_environment(migration_root), module="config.serve.production",
                           options=("--host", "127.0.0.1", "--workers", "2"), start_timeout=180, stop_timeout=60)
    yield server
    server.stop()
    server.remove_log()


@pytest.fixture
def trees(tmp_path):
    source, destination = tmp_path / "old-site", tmp_path / "new-site"
    build_tree(source, files=8)
    return source, destination


def localized(example: str, *, replacements: dict[str, str], source: Path, destination: Path) -> str:
    """`example` with each of `replacements` made exactly once, and the value of every `source` and
    `destination` key of its dict literals replaced by a local directory."""
    for placeholder, value in replacements.items():
        assert example.count(placeholder) == 1, f"{placeholder!r} is no longer in the example once"
        example = example.replace(placeholder, value)
    lines = example.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    sides = {"source": {"type": "directory", "path": str(source)},
             "destination": {"type": "directory", "path": str(destination)}}
    spans = [(offsets[value.lineno - 1] + value.col_offset, offsets[value.end_lineno - 1] + value.end_col_offset,
              repr(sides[key.value]))
             for node in ast.walk(ast.parse(example)) if isinstance(node, ast.Dict)
             for key, value in zip(node.keys, node.values)
             if isinstance(key, ast.Constant) and key.value in sides]
    assert sorted(text for *_, text in spans) == sorted(repr(side) for side in sides.values())
    for start, end, text in sorted(spans, reverse=True):
        example = example[:start] + text + example[end:]
    return example


def run_example(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def access_token(stack, user) -> str:
    status, _, body = stack.request("POST", "/api/v1/auth/token", headers={"Content-Type": "application/json"},
                                    body=json.dumps({"email": user.email, "password": PASSWORD}).encode())
    assert status == 200, body
    return json.loads(body)["access"]


def api_key(user) -> str:
    return api_key_create(user=user, name="guide", scopes=["migrations:read", "migrations:write"],
                          allowed=role_scopes(user.role)).secret


def test_the_guides_basic_api_usage_runs_unchanged_to_completed(stack, user, trees):
    source, destination = trees
    code = localized((EXAMPLES / "basic_api_usage.py").read_text(), source=source, destination=destination,
                     replacements={GUIDE_URL: stack.url, "your-jwt-token": access_token(stack, user)})

    done = run_example(code)

    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.splitlines()
    assert printed[0].startswith("Created migration session: ") and printed[1] == "Migration started!"
    assert printed[-2:] == ["Status: completed, Progress: 100.0%", "Migration finished!"]
    assert checksums(destination) == checksums(source)


def test_the_guides_sdk_section_runs_unchanged_to_completed(stack, user, trees):
    source, destination = trees
    code = localized((EXAMPLES / "python_sdk.py").read_text(), source=source, destination=destination,
                     replacements={GUIDE_URL: stack.url, "your-api-key": api_key(user)})

    done = run_example(code)

    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.splitlines()
    assert printed[-1] == "Migration completed" and printed[-2].startswith("Progress: 100")
    assert checksums(destination) == checksums(source)


def test_the_guides_curl_call_with_an_api_key_lists_the_tenants_migrations(stack, user, tenant):
    from apps.migrations_app.models import MigrationRun

    run = MigrationRun.objects.create(tenant=tenant, created_by=user, name="Listed by curl",
                                      source={"type": "directory", "path": "/a"},
                                      destination={"type": "directory", "path": "/b"})
    command = ['curl', '-s', '-H', f'X-API-Key: {api_key(user)}', '-H', 'Content-Type: application/json',
               f'{stack.url}/migrations/']

    listed = json.loads(subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout)

    assert [(row["session_id"], row["name"]) for row in listed] == [(run.session_id, "Listed by curl")]


def test_the_guides_javascript_snippet_follows_a_migration_in_a_browser(start_server, workers, migration_root, user,
                                                                        trees):
    """The snippet connects with no credentials of its own, as a page at the server's origin does: the browser's
    session (signed in through the API's login page) authenticates the socket."""
    require_browser()
    source, destination = trees
    server = start_server(REDIS_URL=settings.REDIS_URL, **{
        key: value for key, value in cluster_environment(migration_root).items() if key.startswith("MIGRATION_")})
    snippet = (EXAMPLES / "progress_socket.js").read_text()
    key = api_key(user)

    def call(method, path, body=None):
        status, _, raw = server.request(method, path, body=json.dumps(body or {}).encode(),
                                        headers={"X-API-Key": key, "Content-Type": "application/json"})
        assert status < 300, raw
        return json.loads(raw)

    session_id = call("POST", "/migrations/", {"name": "Watched in a browser",
                                               "source": {"type": "directory", "path": str(source)},
                                               "destination": {"type": "directory", "path": str(destination)}}
                      )["session_id"]
    snippet = snippet.replace("ws://localhost:8000/ws/migrations/abc123def456",
                              f"{server.url.replace('http', 'ws')}/ws/migrations/{session_id}")

    with chromium_page() as (page, record):
        page.goto(f"{server.url}/api-auth/login/?next=/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.evaluate("""() => {
            window.seen = {progress: [], steps: [], metrics: []};
            window.updateProgressBar = (value) => window.seen.progress.push(value);
            window.updateCurrentStep = (value) => window.seen.steps.push(value);
            window.updateMetrics = (value) => window.seen.metrics.push(value);
        }""")
        page.evaluate(f"() => {{ {snippet} }}")
        page.wait_for_function("() => window.seen.progress.length > 0", timeout=10_000)
        call("POST", f"/migrations/{session_id}/start", {"auto_rollback": True})
        page.wait_for_function("() => window.seen.progress.includes(100)", timeout=60_000)
        for _ in range(150):  # the run reports 100% just before it records its end
            if record.messages[-1]["status"] == "completed":
                break
            page.wait_for_timeout(200)
        seen = page.evaluate("() => window.seen")

    assert record.errors == []
    assert record.messages[-1]["session_id"] == session_id
    assert record.messages[-1]["status"] == "completed"
    assert seen["progress"][0] == 0 and seen["progress"][-1] == 100
    assert len(seen["steps"]) == len(seen["metrics"]) == len(seen["progress"])
    assert checksums(destination) == checksums(source)
