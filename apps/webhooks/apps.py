from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WebhooksConfig(AppConfig):
    """Tenant webhook subscriptions, signed deliveries of change events, and their attempts; keeps the sweep of
    deliveries whose task was lost scheduled."""

    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.events.receivers import register

        from .schedules import ensure_sweep_schedule
        from .services import webhooks_dispatch

        register(webhooks_dispatch)
        post_migrate.connect(ensure_sweep_schedule, sender=self)
