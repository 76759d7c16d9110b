from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Tenant webhook subscriptions, signed deliveries of change events, and their attempts."""

    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.events.receivers import register

        from .services import webhooks_dispatch

        register(webhooks_dispatch)
