"""The console scripts an install of the project provides (pyproject.toml, `[project.scripts]`).

- `tessera`: manage.py's commands under one name. `tessera migrate`, `tessera qcluster`, `tessera seed_demo` are
  `python manage.py ...` without the file.
- `migration-assistant serve [--host --port --workers --auth-enabled --jwt-secret]`: the Migration Assistant user
  guide's command, serving Tessera exactly as `make serve` does (config/serve/production.py: nginx in front of
  granian and uvicorn, a django-q2 cluster), with the same options.
"""
import argparse
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def migration_assistant(argv: list[str] | None = None) -> int:
    """`migration-assistant serve [options]`: `python -m config.serve.production [options]` under the guide's name."""
    from config.serve import production

    parser = argparse.ArgumentParser(prog="migration-assistant", description="The Migration Assistant API, served.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", add_help=False, help="serve the API as `make serve` does (serve --help: options)")
    _, rest = parser.parse_known_args(argv)
    return production.main(rest, prog="migration-assistant serve")
