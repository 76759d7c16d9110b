"""Background work contributed by the tasks app: export and import.

Each job sees the tasks its starter could see through the API (the access chokepoint, with the job's caller) and
renders or validates them with the Task resource's own serializer, then calls a service.
"""
from typing import Any

from rest_framework import serializers

from apps import api, jobs
from apps.api.scoping import scope_queryset
from apps.jobs.progress import Progress
from apps.jobs.services import job_store_file

from . import services
from .models import Task


class ExportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "json"], default="csv")


class ImportParams(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "json"])
    content = serializers.CharField(max_length=900_000, help_text="The file's text (CSV with a header row, or a "
                                                                  "JSON list of task objects).")


@jobs.register("tasks.export", params=ExportParams, scope="tasks:read")
def run_export(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Export your tasks in the active tenant to CSV or JSON; download the file from /jobs/{id}/file."""
    tasks = scope_queryset(Task.objects.all(), request=progress.caller, resource=api.site.get_resource(Task))
    content, summary = services.task_export(tasks=tasks, serializer_class=api.site.get_serializer(Task),
                                            format=params["format"], progress=progress)
    job_store_file(progress.job, name=f"tasks.{params['format']}",
                   content_type=services.CONTENT_TYPES[params["format"]], content=content)
    return summary


@jobs.register("tasks.import", params=ImportParams, scope="tasks:write")
def run_import(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Import tasks from CSV or JSON text; the result lists rejected rows with their errors (they write nothing)."""
    caller = progress.caller
    return services.task_import(tenant=caller.tenant, user=caller.user, serializer_class=api.site.get_serializer(Task),
                                format=params["format"], content=params["content"], progress=progress)
