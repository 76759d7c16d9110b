from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    """Discovers every app's jobs.py, keeps the stale-job reaper scheduled, and adds the queue to readiness and
    the job gauges to /metrics."""

    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from apps.api.metrics import register_collector
        from apps.api.readiness import register_check

        from .operations import JobsCollector, queue_answers
        from .registry import autodiscover
        from .schedules import ensure_reaper_schedule

        autodiscover()
        post_migrate.connect(ensure_reaper_schedule, sender=self)
        register_check("queue", queue_answers)
        register_collector(JobsCollector)
