"""`manage.py run_migration plan.json`: run a migration from a JSON config with a progress bar in the terminal.

For operators who work without the API. The same validation, confinement and pipeline as the API run it;
only the progress goes to the terminal instead of a job.
"""
import json
import sys
import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.api.errors import ValidationFailed
from apps.migrations_app import pipeline
from apps.migrations_app.config import validate_config

BAR_WIDTH = 40


class Command(BaseCommand):
    help = "Run a migration from a JSON file ({source, destination, transfer?, safety?}) with a progress bar."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("config", help="Path of the JSON config file, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:

        config = self._load(options["config"])
        try:
            validated = validate_config(**{key: config.get(key) for key in ("source", "destination", "transfer",
                                                                             "safety")})
        except ValidationFailed as error:
            raise CommandError("Invalid config: " + "; ".join(f"{field}: {' '.join(messages)}"
                                                              for field, messages in error.details.items()))
        try:
            outcome = pipeline.execute(validated, report=self._report, log=self._log,
                                       backup_id=f"cli-{uuid.uuid4().hex[:12]}")
        except Exception as error:
            self.stdout.write("")
            raise CommandError(f"Migration failed: {error}") from error
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Done in {outcome['metrics']['seconds']} s."))
        for part, metrics in outcome["metrics"]["parts"].items():
            self.stdout.write(f"  {part}: {json.dumps(metrics)}")

    def _load(self, path: str) -> dict:
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
            config = json.loads(text)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        if not isinstance(config, dict):
            raise CommandError("The config must be a JSON object.")
        return config

    def _report(self, percent, step, message=None, **measures):
        filled = int(BAR_WIDTH * percent / 100)
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:5.1f}%  {step[:50]:<50}",
                          ending="")
        self.stdout.flush()

    def _log(self, level, message, **context):
        self.stdout.write(f"\n{level}: {message}")
