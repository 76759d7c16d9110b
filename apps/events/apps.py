from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EventsConfig(AppConfig):
    """Writes the outbox row for every change a resource declares `events` for and every change published on an
    event stream, and keeps the sweep scheduled."""

    name = "apps.events"
    label = "events"
    verbose_name = "Change events"

    def ready(self) -> None:
        from apps.api.events import row_changed, stream_changed

        from .schedules import ensure_sweep_schedule
        from .services import record_change, record_stream_change

        row_changed.connect(record_change, dispatch_uid="apps.events.record_change")
        stream_changed.connect(record_stream_change, dispatch_uid="apps.events.record_stream_change")
        post_migrate.connect(ensure_sweep_schedule, sender=self)
