"""Request metrics for Prometheus, kept in Redis so every web process adds to, and reports, the same numbers.

Each request adds one to its (method, route, status) count and to one latency bucket in the memory of its
process, and a background thread of each process adds what gathered there to Redis every FLUSH_SECONDS (and
at exit): the request itself writes nothing to Redis. `/metrics` renders the totals in Prometheus text format,
so a scrape sees the requests of other processes up to FLUSH_SECONDS late (its own process's at once). On the
embedded default (no Redis) the numbers live in the process, which is then the only one.

Why not prometheus_client's multiprocess mode: its files are shared by the workers of one host only, and
Tessera keeps every shared number in Redis so that `/metrics` of any server adds up every server of the
deployment (tests/test_scale_out.py). Both keep the request path free of writes to a shared store.
"""
import atexit
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import lru_cache

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

#: Upper bounds (seconds) of the latency buckets; the last bucket is +Inf.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS_KEY = "metrics:requests"
LATENCY_KEY = "metrics:latency"
SOCKET_FAILURES_KEY = "metrics:socket_failures"
#: How often each process adds the counts it gathered to Redis.
FLUSH_SECONDS = 1.0
logger = logging.getLogger("tessera.metrics")


def bucket_for(seconds: float) -> str:
    return next((str(bound) for bound in BUCKETS if seconds <= bound), "+Inf")


class MemoryStore:
    """Counts in this process (embedded default only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes = {REQUESTS_KEY: {}, LATENCY_KEY: {}, SOCKET_FAILURES_KEY: {}}

    def record(self, increments: list[tuple[str, str, float]]) -> None:
        with self._lock:
            for key, field, amount in increments:
                self._hashes[key][field] = self._hashes[key].get(field, 0) + amount

    def read(self, key: str) -> dict[str, float]:
        with self._lock:
            return dict(self._hashes[key])

    def flush(self) -> None:
        """Nothing waits: the counts are already where `/metrics` reads them."""


class RedisStore:
    """Counts in Redis hashes shared by every process, under `<REDIS_KEY_PREFIX>:` like the cache's keys."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = prefix

    def record(self, increments: list[tuple[str, str, float]]) -> None:
        pipeline = self._client.pipeline(transaction=False)
        for key, field, amount in increments:
            pipeline.hincrbyfloat(f"{self._prefix}:{key}", field, amount)
        pipeline.execute()

    def read(self, key: str) -> dict[str, float]:
        stored = self._client.hgetall(f"{self._prefix}:{key}")
        return {field.decode(): float(value) for field, value in stored.items()}


class BufferedStore:
    """Gathers increments in this process and adds them to `store` (Redis) from a background thread.

    One thread per process, started by the first increment (so also in each worker a server forks), adds the
    sums every FLUSH_SECONDS in one round trip, and once more at exit. Increments that cannot be written while
    Redis is down are kept and written with the next flush that succeeds. Reads flush first, so what this
    process counted shows at once.
    """

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], float] = defaultdict(float)
        self._flusher_pid: int | None = None

    def record(self, increments: list[tuple[str, str, float]]) -> None:
        with self._lock:
            for key, field, amount in increments:
                self._pending[key, field] += amount
            if self._flusher_pid != os.getpid():
                self._start_flusher()

    def _start_flusher(self) -> None:
        self._flusher_pid = os.getpid()
        threading.Thread(target=self._flush_forever, name="metrics-flush", daemon=True).start()
        atexit.register(self.flush)

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Add what gathered to the store; on failure keep it for the next flush (logged, never raised)."""
        with self._lock:
            pending, self._pending = self._pending, defaultdict(float)
        if not pending:
            return
        try:
            self.store.record([(key, field, amount) for (key, field), amount in pending.items()])
        except redis.RedisError:
            logger.error("Metrics store unreachable; %d counts wait for the next flush", len(pending), exc_info=True)
            with self._lock:
                for item, amount in pending.items():
                    self._pending[item] += amount

    def read(self, key: str) -> dict[str, float]:
        self.flush()
        return self.store.read(key)


@lru_cache(maxsize=4)
def _store_for(redis_url: str, prefix: str):
    return BufferedStore(RedisStore(redis_url, prefix=prefix)) if redis_url else MemoryStore()


def metrics_store() -> BufferedStore | MemoryStore:
    return _store_for(settings.REDIS_URL, settings.REDIS_KEY_PREFIX)


def record_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """Count one served request, in this process's memory (never fails the request)."""
    labels = f"{method}|{route}"
    metrics_store().record([
        (REQUESTS_KEY, f"{labels}|{status}", 1),
        (LATENCY_KEY, f"{labels}|{bucket_for(seconds)}", 1),
        (LATENCY_KEY, f"{labels}|sum", seconds),
    ])


def record_socket_failure(reason: str) -> None:
    """Count a WebSocket the server closed because a dependency failed (`reason`: which one); never raises."""
    metrics_store().record([(SOCKET_FAILURES_KEY, reason, 1)])


class StoredRequestsCollector:
    """Turns the stored counts into Prometheus metric families at scrape time."""

    def __init__(self, store: BufferedStore | MemoryStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("tessera_http_requests", "HTTP requests served, by route and status.",
                                       labels=["method", "route", "status"])
        for field, count in sorted(self.store.read(REQUESTS_KEY).items()):
            method, route, status = field.split("|")
            requests.add_metric([method, route, status], count)
        yield requests
        yield self._latency()
        failures = CounterMetricFamily("tessera_websocket_failures",
                                       "WebSockets closed because a dependency failed, by dependency.",
                                       labels=["reason"])
        for reason, count in sorted(self.store.read(SOCKET_FAILURES_KEY).items()):
            failures.add_metric([reason], count)
        yield failures

    def _latency(self):
        family = HistogramMetricFamily("tessera_http_request_duration_seconds",
                                       "Time to serve HTTP requests, by route.", labels=["method", "route"])
        series: dict[tuple[str, str], dict[str, float]] = {}
        for field, value in self.store.read(LATENCY_KEY).items():
            method, route, bucket = field.split("|")
            series.setdefault((method, route), {})[bucket] = value
        for (method, route), values in sorted(series.items()):
            cumulative, buckets = 0.0, []
            for bound in [*map(str, BUCKETS), "+Inf"]:
                cumulative += values.get(bound, 0)
                buckets.append((bound, cumulative))
            family.add_metric([method, route], buckets, values.get("sum", 0.0))
        return family


#: Collectors other apps add (the job engine's gauges), as zero-argument factories called at scrape time.
EXTRA_COLLECTORS: list = []


def register_collector(factory: Callable[[], Collector]) -> None:
    if factory not in EXTRA_COLLECTORS:
        EXTRA_COLLECTORS.append(factory)


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoredRequestsCollector(metrics_store()))
    for factory in EXTRA_COLLECTORS:
        registry.register(factory())
    return generate_latest(registry)


class MetricsMiddleware:
    """Times every request and records it under its route name (low cardinality: never the raw path)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.route) if match else "unmatched"
        record_request(method=request.method, route=route, status=response.status_code,
                       seconds=time.perf_counter() - started)
        return response


def request_latency_summary(quantiles: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)) -> dict[str, float | int | None]:
    """Requests served by every process and their latency quantiles (seconds), estimated from the histogram
    buckets as Prometheus' histogram_quantile does: linearly inside the bucket the quantile falls in."""
    totals: dict[str, float] = defaultdict(float)
    for field, value in metrics_store().read(LATENCY_KEY).items():
        totals[field.rsplit("|", 1)[1]] += value
    count = sum(value for bucket, value in totals.items() if bucket != "sum")
    summary: dict[str, float | int | None] = {"requests": int(count),
                                               "mean_seconds": round(totals["sum"] / count, 6) if count else None}
    bounds = [*BUCKETS, float("inf")]
    for quantile in quantiles:
        summary[f"p{round(quantile * 100)}_seconds"] = _quantile(quantile, count, totals, bounds) if count else None
    return summary


def _quantile(quantile: float, count: float, totals: dict[str, float], bounds: list[float]) -> float:
    rank, seen, lower = quantile * count, 0.0, 0.0
    for bound in bounds:
        in_bucket = totals.get("+Inf" if bound == float("inf") else str(bound), 0.0)
        if seen + in_bucket >= rank and in_bucket:
            if bound == float("inf"):
                return BUCKETS[-1]  # beyond the last bound nothing better is known (as in Prometheus)
            return round(lower + (bound - lower) * (rank - seen) / in_bucket, 6)
        seen, lower = seen + in_bucket, bound
    return BUCKETS[-1]
