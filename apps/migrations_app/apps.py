from django.apps import AppConfig


class MigrationsAppConfig(AppConfig):
    """Migrations: adapters that really move files and databases, and the runs that drive them."""

    name = "apps.migrations_app"
    label = "migrations_app"
    verbose_name = "Migrations"

    def ready(self) -> None:
        from apps.platform.metrics import register_collector

        from .metrics import MigrationsCollector

        register_collector(MigrationsCollector)
