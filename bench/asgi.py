"""ASGI app for the benchmark: the real project, with the baseline routes added."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.ROOT_URLCONF = "bench.urls"

from config.asgi import application  # noqa: E402, F401
