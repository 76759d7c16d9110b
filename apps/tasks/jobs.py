"""Background work contributed by the tasks app: export and import."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from apps import jobs
from apps.jobs.services import job_store_file

from . import services

if TYPE_CHECKING:
    from apps.jobs.progress import Progress


class ExportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "json"], default="csv")


class ImportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "json"])
    content = serializers.CharField(max_length=900_000, help_text="The file's text (CSV with a header row, or a "
                                                                  "JSON list of task objects).")


@jobs.register("tasks.export", params=ExportParams, scope="tasks:read")
def run_export(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Export your tasks in the active tenant to CSV or JSON; download the file from /jobs/{id}/file."""
    job = progress.job
    content, summary = services.task_export(tenant=job.tenant, user=job.created_by, format=params["format"],
                                            progress=progress)
    job_store_file(job, name=f"tasks.{params['format']}", content_type=services.CONTENT_TYPES[params["format"]],
                   content=content)
    return summary


@jobs.register("tasks.import", params=ImportParams, scope="tasks:write")
def run_import(params: dict[str, Any], progress: Progress) -> dict[str, Any]:

    """Import tasks from CSV or JSON text; the result lists rejected rows with their errors (they write nothing)."""
    job = progress.job
    return services.task_import(tenant=job.tenant, user=job.created_by, format=params["format"],
                                content=params["content"], progress=progress)

