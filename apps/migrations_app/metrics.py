"""What the migrations app adds to /metrics: gauges of its runs, read from the database at scrape time."""
from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import MigrationRun


class MigrationsCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = GaugeMetricFamily("tessera_migrations", "Migration runs by status.", labels=["status"])
        counts = dict(MigrationRun.objects.values_list("status").annotate(n=Count("pk")).order_by())
        for status in MigrationRun.Status.values:
            runs.add_metric([status], counts.get(status, 0))
        yield runs
