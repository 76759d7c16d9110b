import os

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def forget_inherited_database_connections() -> None:
    """After a fork, drop the parent's PostgreSQL pool and connections without closing them (they are the
    parent's sockets); the child opens its own on first use.

    django-q2 forks its workers from the cluster process, which has used the database. Sharing the pool's
    sockets, two processes interleave protocol messages on one connection: a worker read another's BEGIN
    and then failed with "can't change 'autocommit' now". Django keeps pools in a class-level dict.
    """
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()
    for connection in connections.all(initialized_only=True):
        connection.connection = None


class JobsConfig(AppConfig):
    """Discovers every app's jobs.py and checks its declarations, keeps the stale-job reaper scheduled, and adds the
    queue to readiness and the job gauges to /metrics."""

    name = "apps.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from django.core import checks

        from apps.platform.metrics import register_collector
        from apps.platform.readiness import register_check

        from .checks import check_job_types
        from .monitoring import JobsCollector, queue_answers
        from .registry import autodiscover
        from .schedules import ensure_reaper_schedule

        autodiscover()
        checks.register(check_job_types)
        post_migrate.connect(ensure_reaper_schedule, sender=self)
        os.register_at_fork(after_in_child=forget_inherited_database_connections)
        register_check("queue", queue_answers)
        register_collector(JobsCollector)
