"""What the job engine adds to operations: a readiness check of its queue and Prometheus gauges of its jobs."""
from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from django_q.brokers import get_broker
from prometheus_client.core import GaugeMetricFamily

from .models import Job


def queue_answers() -> None:
    """The django-q2 broker (Redis, or the ORM on the embedded default) answers a ping."""
    if not get_broker().ping():
        raise RuntimeError("the job queue did not answer")


class JobsCollector:
    """Gauges read from the jobs table at scrape time, so every process reports the same numbers."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("tessera_jobs", "Jobs by status and type.", labels=["status", "type"])
        for row in Job.objects.values("status", "type").annotate(n=Count("pk")).order_by():
            jobs.add_metric([row["status"], row["type"]], row["n"])
        yield jobs
        ages = Job.objects.filter(status=Job.Status.QUEUED).aggregate(oldest=Min("queued_at"))
        oldest = GaugeMetricFamily("tessera_jobs_oldest_queued_seconds",
                                   "Age of the oldest queued job (0 when none waits): a growing value means "
                                   "workers are missing or saturated.")
        oldest.add_metric([], (timezone.now() - ages["oldest"]).total_seconds() if ages["oldest"] else 0)
        yield oldest
        heartbeat = Job.objects.filter(status=Job.Status.RUNNING).aggregate(stalest=Min("heartbeat_at"))
        stale = GaugeMetricFamily("tessera_jobs_stalest_heartbeat_seconds",
                                  "Seconds since the stalest running job's heartbeat (0 when none runs).")
        stale.add_metric([], (timezone.now() - heartbeat["stalest"]).total_seconds() if heartbeat["stalest"] else 0)
        yield stale
