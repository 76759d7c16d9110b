"""Recording custom events and starting exports."""
from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.jobs.services import job_enqueue

from . import selectors
from .models import AnalyticsEvent

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.jobs.models import Job
    from apps.tenants.models import Tenant

CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}


def event_record(*, tenant: Tenant, user: User, **fields: Any) -> AnalyticsEvent:
    return AnalyticsEvent.objects.create(tenant=tenant, user=user, **fields)


def export_start(*, tenant: Tenant, user: User, format: str, range: str) -> Job:
    """Queue the export of the caller's dashboard and every time series over `range`, as CSV or JSON."""
    return job_enqueue("analytics.export", {"format": format, "range": range}, tenant=tenant, created_by=user)


def export_content(visible: selectors.Visible, *, format: str, range: str) -> bytes:
    """CSV: one row per (series, bucket). JSON: the dashboard and the series."""
    series = {name: selectors.timeseries(visible, name, range) for name in selectors.SERIES}
    if format == "json":
        return json.dumps({"range": range, "dashboard": selectors.dashboard(visible), "timeseries": series},
                          cls=DjangoJSONEncoder, indent=2).encode()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["series", "interval", "timestamp", "value"])
    for name, data in series.items():
        for point in data["points"]:
            writer.writerow([name, data["interval"], point["timestamp"].isoformat(),
                             "" if point["value"] is None else point["value"]])
    return out.getvalue().encode()
