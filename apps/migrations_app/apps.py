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
        post_migrate.connect(ensure_schedules, sender=self)


#: The django-q2 schedule that discards backups past their safety.backup_retention_days (hourly).
RETENTION_SCHEDULE = "tessera.migrations.discard-expired-backups"
#: The one that ends migrations whose job ended without them (every minute, after the job reaper).
RECONCILE_SCHEDULE = "tessera.migrations.reconcile-with-jobs"


def ensure_schedules(**kwargs: object) -> None:
    """post_migrate: make sure the schedules exist (idempotent; the tables exist by then)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=RETENTION_SCHEDULE, defaults={
        "func": "apps.migrations_app.services.migrations_discard_expired_backups",
        "schedule_type": Schedule.HOURLY, "repeats": -1})
    Schedule.objects.update_or_create(name=RECONCILE_SCHEDULE, defaults={
        "func": "apps.migrations_app.services.migrations_reconcile_with_jobs",
        "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1})
