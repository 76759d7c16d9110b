"""`manage.py startresource <app> <Model>`: a new app under apps/ with one generated resource, ready to use.

It writes apps/<app>/ (apps.py naming "apps.<app>", models.py, api.py, migrations/0001_initial.py) and
tests/<app>/test_<model>_api.py from `apps/api/resource_template/`, through Django's own template machinery, and
makes the migration with Django's makemigrations. The admin page, routes, scopes and OpenAPI come from the
declaration. The app is not switched on behind your back: the command prints the line to add to INSTALLED_APPS in
config/settings.py, where every app the project runs is listed and reviewed.
"""
import os
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.templates import TemplateCommand

TEMPLATE = Path(__file__).resolve().parents[2] / "resource_template"


class Command(TemplateCommand):
    help = "Scaffold apps/<app>/ with a model, its api.py Resource, a migration and tests/<app>/ tests."
    missing_args_message = "Give an app name and a model name, e.g. startresource widgets Widget."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("app", help="The app's name, a Python identifier: its URL is /api/v1/<app>/.")
        parser.add_argument("model", help="The model's class name, e.g. Widget.")

    def handle(self, *args: Any, **options: Any) -> None:

        app, model = options.pop("app"), options.pop("model")
        if not model.isidentifier() or not model[0].isupper():
            raise CommandError(f"{model!r} is not a model class name (a capitalised Python identifier).")
        root = Path(settings.BASE_DIR)
        if (root / "apps" / app).exists():
            raise CommandError(f"apps/{app} already exists.")
        super().handle("resource", app, str(root), template=str(TEMPLATE), extensions=["py"], files=[],
                       model_name=model, model_lower=model.lower(), **options)
        tests = root / "tests" / app
        (tests / f"test_{app}_api.py").rename(tests / f"test_{model.lower()}_api.py")
        self._make_migration(root, app)
        self.stdout.write(self.style.SUCCESS(f"Created apps/{app}/ and tests/{app}/test_{model.lower()}_api.py."))
        self.stdout.write(
            f'Add "apps.{app}", to INSTALLED_APPS in config/settings.py (before "apps.api"), then run\n'
            f"  manage.py migrate  and  pytest tests/{app}\n"
            f"and edit apps/{app}/models.py and api.py (then makemigrations) to give {model} its real fields.")

    def _make_migration(self, root: Path, app: str) -> None:
        """Django's makemigrations, in a process where the new app is installed (this one started without it)."""
        extra = ",".join(filter(None, [os.environ.get("EXTRA_INSTALLED_APPS", ""), f"apps.{app}"]))
        environment = {**os.environ, "EXTRA_INSTALLED_APPS": extra,
                       "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        made = subprocess.run([sys.executable, "-m", "django", "makemigrations", app, "--verbosity", "0"],
                              cwd=root, env=environment, capture_output=True, text=True)
        if made.returncode:
            raise CommandError(f"makemigrations {app} failed:\n{made.stderr[-3000:]}")
