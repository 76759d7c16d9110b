"""Bulk work on tasks: export to CSV or JSON and import from them, reporting progress as it goes.

Rows are rendered and validated by the serializer the caller passes in (the Task resource's own, so a file holds
what GET /tasks/ shows and an import obeys the rules of POST /tasks/); which tasks are exported is the caller's
queryset, narrowed by the access chokepoint before it gets here.
"""
from __future__ import annotations

import csv
import io
import json
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.api.parsers import bounded_json_loads

from .models import Task

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.serializers import Serializer

    from apps.accounts.models import User
    from apps.jobs.progress import Progress
    from apps.tenants.models import Tenant

CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}
#: Rows rendered together, and the export's progress step.
EXPORT_BATCH = 100


def task_export(*, tasks: QuerySet[Task], serializer_class: type[Serializer], format: str,
                progress: Progress) -> tuple[bytes, dict[str, Any]]:
    """`tasks`, one row each as `serializer_class` renders it, in CSV or JSON; (content, summary)."""
    tasks = tasks.order_by("pk")
    total = tasks.count()
    rows, remaining = [], tasks.iterator(chunk_size=500)
    while batch := list(islice(remaining, EXPORT_BATCH)):
        rows += map(dict, serializer_class(batch, many=True).data)  # one serializer per batch, not per row
        progress(len(rows) * 100 // total, step="exporting", message=f"{len(rows)} of {total} tasks")
    if format == "json":
        content = json.dumps(rows, indent=2).encode()
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(serializer_class().fields))
        writer.writeheader()
        writer.writerows(rows)
        content = buffer.getvalue().encode()
    return content, {"exported": total, "format": format}


def parse_rows(*, format: str, content: str) -> list[dict[str, Any]]:
    """The rows of an uploaded file; a file that is not CSV or JSON of objects raises ValueError."""
    if format == "json":
        rows = bounded_json_loads(content)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError("JSON imports must be a list of objects.")
        return rows
    return list(csv.DictReader(io.StringIO(content)))


def task_import(*, tenant: Tenant, user: User, serializer_class: type[Serializer], format: str, content: str,
                progress: Progress) -> dict[str, Any]:
    """Create a task in `tenant`, owned by `user`, for every row `serializer_class` accepts (its writable fields
    only; the rest of a row, an exported `id` say, is ignored). Rejected rows are reported by row number with
    their errors and write nothing."""
    try:
        rows = parse_rows(format=format, content=content)
    except (ValueError, csv.Error) as error:
        return {"created": 0, "rejected": [{"row": None, "errors": {"content": [str(error)]}}]}
    writable = [name for name, field in serializer_class().fields.items() if not field.read_only]
    created, rejected = 0, []
    for number, row in enumerate(rows, start=1):
        serializer = serializer_class(data={name: row[name] for name in writable if row.get(name) not in (None, "")})
        if serializer.is_valid():
            with transaction.atomic():
                Task.objects.create(tenant=tenant, user=user, **serializer.validated_data)
            created += 1
        else:
            rejected.append({"row": number, "errors": serializer.errors})
        if number % 50 == 0 or number == len(rows):
            progress(number * 100 // len(rows), step="importing", message=f"{number} of {len(rows)} rows")
    return {"created": created, "rejected": rejected}
