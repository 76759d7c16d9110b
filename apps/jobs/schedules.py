"""The reaper runs every minute on the django-q2 scheduler, so no job stays `running` after its worker died."""
from typing import Any

REAPER_NAME = "tessera.jobs.reap-stale"


def ensure_reaper_schedule(**kwargs: Any) -> None:
    """post_migrate: make sure the schedule exists (idempotent; the tables exist by then)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=REAPER_NAME, defaults={
        "func": "apps.jobs.services.jobs_reap_stale", "schedule_type": Schedule.MINUTES, "minutes": 1,
        "repeats": -1})
