"""Reads about migration runs: filtered logs and metrics, and how far a tenant's migrations may go."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.request import Request

from .models import MigrationLog, MigrationRun, Preset, TenantMigrationLimits

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

LEVELS = [level.value for level in MigrationLog.Level]


def migration_lookup(session_id: str) -> dict[str, str]:
    """How a detail URL names a migration: by its session_id, never its internal pk."""
    return {"session_id": session_id}


def migration_logs(run: MigrationRun, *, level: str | None = None, since: datetime | None = None,
                   limit: int = 100) -> QuerySet[MigrationLog]:
    """Log entries at `level` or above, after `since`, oldest first, at most `limit`."""
    entries = MigrationLog.objects.filter(run=run)
    if level:
        entries = entries.filter(level__in=LEVELS[LEVELS.index(level):])
    if since is not None:
        entries = entries.filter(created_at__gt=since)
    return entries.order_by("created_at", "pk")[:limit]


def migration_metrics(run: MigrationRun) -> dict[str, Any]:
    """Rates, counts, durations, errors and retries of the latest run."""
    job = run.job
    duration = (run.finished_at - run.started_at).total_seconds() if run.started_at and run.finished_at else None
    return {
        "status": run.status,
        "parts": run.metrics.get("parts", {}),
        "duration_seconds": duration,
        "errors": MigrationLog.objects.filter(run=run, level=MigrationLog.Level.ERROR).count(),
        "warnings": MigrationLog.objects.filter(run=run, level=MigrationLog.Level.WARNING).count(),
        "attempts": job.attempts if job else 0,
        "retries": max((job.attempts if job else 0) - 1, 0),
    }


def presets_visible_to(queryset: QuerySet[Preset], *, request: Request) -> QuerySet[Preset]:
    """Visibility policy of presets: the built-in ones, and the active tenant's own."""
    from django.db.models import Q

    return queryset.filter(Q(tenant__isnull=True) | Q(tenant=getattr(request, "tenant", None)))


def tenant_migration_limits(tenant: Tenant) -> TenantMigrationLimits:
    """The tenant's migration limits and allow-lists; the defaults (no narrowing) when none were set."""
    return TenantMigrationLimits.for_tenant(tenant)
