from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    """Discovers every app's jobs.py and keeps the stale-job reaper scheduled."""

    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from .registry import autodiscover
        from .schedules import ensure_reaper_schedule

        autodiscover()
        post_migrate.connect(ensure_reaper_schedule, sender=self)
