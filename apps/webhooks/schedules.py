"""The delivery sweep runs every minute on the django-q2 scheduler, so no pending delivery waits for a task that
was lost (services.deliveries_requeue_overdue)."""
from typing import Any

SWEEP_NAME = "tessera.webhooks.sweep"


def ensure_sweep_schedule(**kwargs: Any) -> None:
    """post_migrate: make sure the schedule exists (idempotent; the tables exist by then)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=SWEEP_NAME, defaults={
        "func": "apps.webhooks.delivery.sweep_pending", "schedule_type": Schedule.MINUTES, "minutes": 1,
        "repeats": -1})
