"""`manage.py startresource <app> <Model>` gives a project that works at once: after the one settings line it
prints, `check`, the migrations check, the OpenAPI validation and the generated tests all pass.

It runs in a copy of the project in tmp_path, as a newcomer would in their clone; every step after the command
itself is its own process. The
child pytest gets a test database and Redis prefix of its own (this run's would be dropped under it).
"""
import io
import os
import shutil
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.servers import ROOT

COPIED = ["apps", "config", "tests", "manage.py", "pytest.ini"]
#: Set by config/test_environment.py for this run; a child run must choose its own.
THIS_RUNS_OWN = ("TEST_DATABASE_NAME", "CACHE_KEY_PREFIX")


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "project"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def run(project, *command: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key not in THIS_RUNS_OWN}
    done = subprocess.run([sys.executable, *command], cwd=project, capture_output=True, text=True, timeout=300,
                          env={**environment, "DEBUG": "true", "PYTHONPATH": str(project)})
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def install(project, line: str):
    """Do what the command says: add the app to INSTALLED_APPS in config/settings.py, before apps.api."""
    settings_file = project / "config" / "settings.py"
    text = settings_file.read_text()
    assert text.count('    "apps.api",\n') == 1
    settings_file.write_text(text.replace('    "apps.api",\n', f"    {line}\n" + '    "apps.api",\n'))


def startresource(project, settings, *arguments: str) -> str:
    """The command itself runs here, in this process, pointed at the copy (its makemigrations is a child)."""
    settings.BASE_DIR = project
    said = io.StringIO()
    call_command("startresource", *arguments, stdout=said)
    return said.getvalue()


def test_a_scaffolded_resource_passes_check_its_migration_the_schema_and_its_own_tests(project, settings):
    said = startresource(project, settings, "gadgets", "Gadget")

    app = project / "apps" / "gadgets"
    assert 'name = "apps.gadgets"' in (app / "apps.py").read_text()
    assert "@api.register(Gadget)" in (app / "api.py").read_text()
    assert (app / "migrations" / "0001_initial.py").exists()
    assert (project / "tests" / "gadgets" / "test_gadget_api.py").exists()
    assert 'Add "apps.gadgets", to INSTALLED_APPS in config/settings.py' in said

    install(project, '"apps.gadgets",')
    assert "no issues" in run(project, "manage.py", "check")
    assert "No changes detected" in run(project, "manage.py", "makemigrations", "--check", "--dry-run")
    run(project, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert "5 passed" in run(project, "-m", "pytest", "-q", "-p", "no:randomly", "tests/gadgets")


def test_it_refuses_an_existing_app_and_a_model_name_that_is_not_a_class(project, settings):
    for arguments, refusal in [(["tasks", "Task"], "apps/tasks already exists"),
                               (["gadgets", "gadget"], "not a model class name")]:
        with pytest.raises(CommandError, match=refusal):
            startresource(project, settings, *arguments)
    assert not (project / "apps" / "gadgets").exists()
