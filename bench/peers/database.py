"""DATABASES["default"] for the Django peers, from DATABASE_URL (postgres://user[:password]@host[:port]/name)."""
import os
from urllib.parse import urlparse


def django_database() -> dict:
    url = urlparse(os.environ["DATABASE_URL"])
    return {"ENGINE": "django.db.backends.postgresql", "NAME": url.path[1:], "USER": url.username or "",
            "PASSWORD": url.password or "", "HOST": url.hostname or "", "PORT": url.port or 5432,
            # Sync workers serve one request at a time: a persistent connection each, checked before reuse.
            "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}
