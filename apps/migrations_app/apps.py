from django.apps import AppConfig


class MigrationsAppConfig(AppConfig):
    """Migrations: adapters that really move files and databases, and the runs that drive them."""

    name = "apps.migrations_app"
    label = "migrations_app"
    verbose_name = "Migrations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.platform.metrics import register_collector

        from .metrics import MigrationsCollector

        register_collector(MigrationsCollector)
        post_migrate.connect(ensure_backup_retention_schedule, sender=self)


#: The django-q2 schedule that discards backups past their safety.backup_retention_days.
RETENTION_SCHEDULE = "tessera.migrations.discard-expired-backups"


def ensure_backup_retention_schedule(**kwargs: object) -> None:
    """post_migrate: make sure the hourly schedule exists (idempotent; the tables exist by then)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=RETENTION_SCHEDULE, defaults={
        "func": "apps.migrations_app.services.migrations_discard_expired_backups",
        "schedule_type": Schedule.HOURLY, "repeats": -1})
