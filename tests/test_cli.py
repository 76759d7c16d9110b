"""The console scripts an install provides: `tessera` is manage.py under one name, and `migration-assistant serve` is
the Migration Assistant guide's command for `make serve`'s production stack (run here as the script pip writes; a
real `pip install .` of a built wheel is tests/test_packaging.py)."""
import json
import os
import secrets
import sys
import tomllib

import jwt
import pytest
from django.conf import settings

from config.cli import main, migration_assistant
from config.serve.production import nginx_executable
from tests.conftest import PASSWORD
from tests.servers import ROOT, ServerProcess
from tests.workers import subprocess_database_url

#: What the installed `migration-assistant` script runs (pip writes exactly this call into it).
MIGRATION_ASSISTANT = [sys.executable, "-c",
                       "import sys; from config.cli import migration_assistant; sys.exit(migration_assistant())"]


def test_pyproject_installs_the_tessera_and_migration_assistant_commands():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"tessera": "config.cli:main",
                                  "migration-assistant": "config.cli:migration_assistant"}
    assert project["dynamic"] == ["dependencies"]  # read from requirements.txt, the one list


def test_the_tessera_command_runs_manage_py_commands(monkeypatch, capsys, db):
    monkeypatch.setattr(sys, "argv", ["tessera", "check"])

    main()

    assert "System check identified no issues" in capsys.readouterr().out


def test_migration_assistant_serve_takes_the_guides_options(capsys):
    with pytest.raises(SystemExit) as exited:
        migration_assistant(["serve", "--help"])

    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage: migration-assistant serve")
    for option in ("--host", "--port", "--workers", "--auth-enabled", "--jwt-secret"):
        assert option in usage


def test_migration_assistant_needs_a_command(capsys):
    with pytest.raises(SystemExit) as exited:
        migration_assistant([])

    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_serving_without_authentication_is_refused_not_ignored():
    with pytest.raises(SystemExit) as exited:
        migration_assistant(["serve", "--no-auth-enabled"])

    assert "always authenticates" in str(exited.value.code)


def test_a_short_jwt_secret_is_refused():
    with pytest.raises(SystemExit) as exited:
        migration_assistant(["serve", "--jwt-secret", "your-secret-key"])

    assert "at least 32 characters" in str(exited.value.code)


@pytest.mark.django_db(transaction=True)
def test_migration_assistant_serve_runs_the_production_stack_and_signs_with_the_jwt_secret(user):
    if not nginx_executable() and not os.environ.get("TESSERA_REQUIRE_SERVICES"):
        pytest.skip("nginx is not installed (`make serve` installs Debian's package; CI requires it).")
    secret = secrets.token_urlsafe(48)
    environment = {"DATABASE_URL": subprocess_database_url(), "SECRET_KEY": settings.SECRET_KEY,
                   "REDIS_URL": settings.REDIS_URL}
    server = ServerProcess(environment, command=[*MIGRATION_ASSISTANT, "serve"], start_timeout=180, stop_timeout=60,
                           options=("--host", "127.0.0.1", "--workers", "1", "--no-worker", "--auth-enabled",
                                    "--jwt-secret", secret))
    try:
        status, headers, body = server.request(
            "POST", "/auth/token", body=json.dumps({"username": user.email, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"})
        assert status == 200, body
        assert headers["Server"] == "nginx"  # make serve's stack: nginx in front of the app servers
        access = json.loads(body)["access_token"]
        assert jwt.decode(access, secret, algorithms=["HS256"])["user_id"] == str(user.pk)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(access, settings.SECRET_KEY, algorithms=["HS256"])
        me, _, _ = server.request("GET", "/auth/me", headers={"Authorization": f"Bearer {access}"})
        assert me == 200
        assert secret not in server.log()
    finally:
        server.stop()
        server.remove_log()
