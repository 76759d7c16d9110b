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
        self.register_health_components()
        post_migrate.connect(ensure_schedules, sender=self)

    @staticmethod
    def register_health_components() -> None:
        """GET /health's `components`, in the guide's names: the job types that run migrations are registered
        (the orchestrator), the built-in presets ship with the code, and the adapters that validate configs
        are loaded."""
        from pathlib import Path

        from apps.jobs.registry import registry as job_types
        from apps.platform.health import register_component

        from .adapters.registry import ADAPTERS

        builtin_presets = Path(__file__).resolve().parent / "presets" / "builtin.json"
        register_component("orchestrator", lambda: all(job_types.get(name) is not None
                                                       for name in ("migrations.run", "migrations.rollback")))
        register_component("preset_manager", builtin_presets.is_file)
        register_component("validation_engine", lambda: bool(ADAPTERS))


#: The django-q2 schedule that discards backups past their safety.backup_retention_days (hourly).
RETENTION_SCHEDULE = "tessera.migrations.discard-expired-backups"


def ensure_schedules(**kwargs: object) -> None:
    """post_migrate: make sure the schedule exists (idempotent; the tables exist by then)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(name=RETENTION_SCHEDULE, defaults={
        "func": "apps.migrations_app.services.migrations_discard_expired_backups",
        "schedule_type": Schedule.HOURLY, "repeats": -1})
