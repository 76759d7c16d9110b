"""Reads about migration runs: filtered logs and metrics, and how far a tenant's migrations may go."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, BigIntegerField, Count, FloatField, Func, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rest_framework.request import Request

from apps.platform.aggregates import elapsed, per_period, periods

from .models import MigrationLog, MigrationRun, Preset, TenantMigrationLimits

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

LEVELS = [level.value for level in MigrationLog.Level]


def migration_lookup(session_id: str) -> dict[str, str]:
    """How a detail URL names a migration: by its session_id, never its internal pk."""
    return {"session_id": session_id}


def migration_logs(run: MigrationRun, *, level: str | None = None, since: datetime | None = None,
                   limit: int = 100) -> dict[str, Any]:
    """The guide's log page: entries at `level` or above (any case), after `since`, oldest first, at most `limit`;
    `total_logs` counts every entry that matches, `has_more` says whether some were left out."""
    entries = MigrationLog.objects.filter(run=run)
    if level:
        entries = entries.filter(level__in=LEVELS[LEVELS.index(level.upper()):])
    if since is not None:
        entries = entries.filter(created_at__gt=since)
    page = list(entries.order_by("created_at", "pk")[:limit])
    total = entries.count() if len(page) == limit else len(page)
    return {"session_id": run.session_id, "logs": page, "total_logs": total, "has_more": total > len(page)}


UNITS = ("B", "KB", "MB", "GB", "TB")


def human_bytes(count: float | None) -> str | None:
    """1288490188 -> "1.2 GB" (powers of 1024, as the guide writes sizes); None stays None."""
    if count is None:
        return None
    unit = 0
    while count >= 1024 and unit < len(UNITS) - 1:
        count, unit = count / 1024, unit + 1
    return f"{count:.0f} {UNITS[unit]}" if unit == 0 else f"{count:.1f} {UNITS[unit]}"


def human_rate(per_second: float | None) -> str | None:
    return None if per_second is None else f"{human_bytes(per_second)}/s"


def _parts(run: MigrationRun, kind: str | None = None) -> list[dict[str, Any]]:
    return [part for part in (run.metrics or {}).get("parts", {}).values() if kind is None or part.get("kind") == kind]


def _total(parts: list[dict[str, Any]], key: str) -> int:
    return sum(part.get(key) or 0 for part in parts)


def migration_performance(run: MigrationRun) -> dict[str, Any]:
    """The status's `performance_metrics`: rates from bytes moved over time, files and data done and total."""
    measured, files = run.metrics or {}, _parts(run, "files")
    return {"transfer_rate_current": human_rate(measured.get("rate_current")),
            "transfer_rate_average": human_rate(measured.get("rate_average")),
            "files_transferred": _total(files, "done_items"), "files_total": _total(files, "total_items"),
            "data_transferred": human_bytes(_total(_parts(run), "done_bytes")),
            "data_total": human_bytes(_total(_parts(run), "total_bytes"))}


def migration_status(run: MigrationRun) -> dict[str, Any]:
    """Where the migration is, in the guide's fields: status, progress, the current step and operation, times,
    steps done and total, performance, and the error (None when there is none)."""
    measured = run.metrics or {}
    return {"session_id": run.session_id, "status": run.status, "progress": run.progress,
            "current_step": run.current_step, "start_time": run.started_at, "end_time": run.finished_at,
            "duration": run.duration, "error": run.error or None,
            "steps_completed": measured.get("steps_completed", 0), "steps_total": measured.get("steps_total", 0),
            "performance_metrics": migration_performance(run),
            "current_operation": measured.get("current_operation") if run.status == run.Status.RUNNING else None}


def migration_metrics(run: MigrationRun) -> dict[str, Any]:
    """The guide's metrics: overall, transfer, database, the worker's system use and the errors of the latest
    run, from what the worker measured (tracking.py) and its log. Unmeasured values are None."""
    measured, job = run.metrics or {}, run.job
    parts, databases = _parts(run), _parts(run, "database")
    files = _parts(run, "files")
    progress, duration = run.progress, run.duration
    remaining = (0.0 if run.status == run.Status.COMPLETED else
                 round(duration * (100 - progress) / progress, 1) if duration and progress and
                 run.status == run.Status.RUNNING else None)
    counts = dict(MigrationLog.objects.filter(run=run, level__in=[MigrationLog.Level.ERROR,
                                                                  MigrationLog.Level.WARNING])
                  .values_list("level").annotate(n=Count("pk")).order_by())
    system = measured.get("system") or {}
    return {"session_id": run.session_id, "metrics": {
        "overall": {"duration": duration, "progress": progress, "estimated_remaining": remaining},
        "transfer": {"rate_current": human_rate(measured.get("rate_current")),
                     "rate_average": human_rate(measured.get("rate_average")),
                     "rate_peak": human_rate(measured.get("rate_peak")),
                     "bytes_transferred": _total(parts, "done_bytes"), "bytes_total": _total(parts, "total_bytes"),
                     "files_transferred": _total(files, "done_items"), "files_total": _total(files, "total_items")},
        "database": {"tables_migrated": _total(databases, "tables") if databases else None,
                     "tables_total": _total(databases, "tables") if databases and run.status == run.Status.COMPLETED
                     else None,
                     "rows_migrated": _total(databases, "done_items"), "rows_total": _total(databases, "total_items"),
                     "data_size": human_bytes(_total(databases, "total_bytes"))},
        "system": {"cpu_usage": system.get("cpu_usage"), "memory_usage": human_bytes(system.get("memory_bytes")),
                   "disk_usage": None, "network_usage": None},
        "errors": {"total_errors": counts.get(MigrationLog.Level.ERROR, 0),
                   "total_warnings": counts.get(MigrationLog.Level.WARNING, 0),
                   "retry_count": max((job.attempts if job else 0) - 1, 0)},
        "parts": measured.get("parts", {}),
    }}


def human_duration(seconds: float | None) -> str | None:
    """1725 -> "28m 45s" (hours too when there are some: "1h 2m 5s"); None stays None."""
    if seconds is None:
        return None
    hours, rest = divmod(round(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes}m {seconds}s" if hours else f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


class BytesMoved(Func):
    """The bytes a run moved: the sum of `done_bytes` over the parts the worker measured (`metrics.parts`, see
    tracking.py), so the figure has one source, the same the run's own metrics read."""

    output_field = BigIntegerField()
    template = ("(SELECT COALESCE(SUM((part.value ->> 'done_bytes')::bigint), 0) "
                "FROM jsonb_each(COALESCE(%(expressions)s -> 'parts', '{}'::jsonb)) AS part)")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template=(
            "(SELECT COALESCE(SUM(json_extract(part.value, '$.done_bytes')), 0) "
            "FROM json_each(%(expressions)s, '$.parts') AS part)"), **extra)


ANALYTICS_GROUPS = ("day", "week", "month")
_SUCCEEDED = Q(status=MigrationRun.Status.COMPLETED)
_FAILED = Q(status=MigrationRun.Status.FAILED)


def _rate(successful: int, failed: int) -> float | None:
    """Percent of the ended runs (completed or failed) that completed, one decimal; None when none ended."""
    return round(100 * successful / (successful + failed), 1) if successful + failed else None


def _seconds(duration: Any) -> float | None:
    return round(duration.total_seconds(), 3) if duration is not None else None


def migration_analytics(runs: QuerySet[MigrationRun], *, start: datetime, end: datetime,
                        group_by: str) -> dict[str, Any]:
    """The guide's migration analytics over `runs` that started between `start` and `end`, in three queries: the
    summary, the figures per source type, and the trends per `group_by` period (every period of the range, empty
    ones with 0 migrations). Success rates count completed among the runs that ended (completed or failed);
    durations are those of ended runs; transfer rates are the runs' own measured averages."""
    ran = runs.filter(started_at__gte=start, started_at__lte=end)
    ended = _SUCCEEDED | _FAILED
    took = Avg(elapsed("started_at", "finished_at"), filter=ended)
    summary = ran.aggregate(total=Count("pk"), successful=Count("pk", filter=_SUCCEEDED),
                            failed=Count("pk", filter=_FAILED), took=took, moved=Sum(BytesMoved("metrics")))
    by_type = (ran.annotate(kind=KeyTextTransform("type", "source")).values("kind")
               .annotate(count=Count("pk"), successful=Count("pk", filter=_SUCCEEDED),
                         failed=Count("pk", filter=_FAILED)).order_by("kind"))
    rate = Avg(Cast(KeyTextTransform("rate_average", "metrics"), FloatField()))
    trends = per_period(ran, "started_at", group_by, migrations=Count("pk"), took=took, rate=rate)
    empty = {"migrations": 0, "took": None, "rate": None}
    average, moved = _seconds(summary["took"]), summary["moved"] or 0
    return {
        "period": {"start": start, "end": end},
        "summary": {"total_migrations": summary["total"], "successful_migrations": summary["successful"],
                    "failed_migrations": summary["failed"],
                    "success_rate": _rate(summary["successful"], summary["failed"]),
                    "average_duration": human_duration(average), "average_duration_seconds": average,
                    "total_data_transferred": human_bytes(moved), "total_bytes_transferred": moved},
        "by_type": {row["kind"] or "unknown": {"count": row["count"],
                                               "success_rate": _rate(row["successful"], row["failed"])}
                    for row in by_type},
        "performance_trends": [_trend(moment, trends.get(moment, empty)) for moment in periods(start, end, group_by)],
    }


def _trend(moment: datetime, figures: dict[str, Any]) -> dict[str, Any]:
    took, rate = _seconds(figures["took"]), figures["rate"]
    return {"date": moment.date(), "migrations": figures["migrations"], "avg_duration": human_duration(took),
            "avg_duration_seconds": took, "avg_transfer_rate": human_rate(rate),
            "avg_transfer_rate_bytes": round(rate) if rate is not None else None}


def preset_lookup(slug: str) -> dict[str, str]:
    """How a detail URL names a preset: by its slug (a tenant's own never shares a built-in's)."""
    return {"slug": slug}


def presets_visible_to(queryset: QuerySet[Preset], *, request: Request) -> QuerySet[Preset]:
    """Visibility policy of presets: the built-in ones, and the active tenant's own."""
    from django.db.models import Q

    return queryset.filter(Q(tenant__isnull=True) | Q(tenant=getattr(request, "tenant", None)))


def tenant_migration_limits(tenant: Tenant) -> TenantMigrationLimits:
    """The tenant's migration limits and allow-lists; the defaults (no narrowing) when none were set."""
    return TenantMigrationLimits.for_tenant(tenant)
