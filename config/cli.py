"""`tessera`, the console script an install of the project provides: manage.py's commands under one name.

`tessera migrate`, `tessera qcluster`, `tessera seed_demo` are `python manage.py ...` without the file.
"""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
