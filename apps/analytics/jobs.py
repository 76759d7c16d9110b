"""Background work contributed by the analytics app: an export of the caller's figures."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps import jobs
from apps.jobs.services import job_store_file

from . import selectors, services

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class ExportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=sorted(services.CONTENT_TYPES), default="csv")
    range = serializers.ChoiceField(choices=list(selectors.RANGES), default="month")


@jobs.register("analytics.export", params=ExportParams, scope="analytics:read")
def run_export(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Export your dashboard and time series as CSV or JSON; download it from /jobs/{id}/file."""
    progress(10, step="compute", message="Computing the figures.")
    content = services.export_content(selectors.Visible.to(progress.caller), **params)
    job_store_file(progress.job, name=f"analytics-{params['range']}.{params['format']}",
                   content_type=services.CONTENT_TYPES[params["format"]], content=content)
    progress(100, step="done", message=f"{len(content)} bytes ready.")
    return {"bytes": len(content), "format": params["format"], "range": params["range"]}
