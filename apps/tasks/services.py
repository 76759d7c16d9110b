"""Bulk work on tasks: export to CSV or JSON and import from them, reporting progress as it goes."""
from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps import api
from apps.api.parsers import bounded_json_loads

from .models import Task

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.jobs.progress import Progress
    from apps.tenants.models import Tenant

EXPORT_FIELDS = ["id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at"]
IMPORT_FIELDS = ["title", "description", "status", "priority", "due_date"]
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json"}


def task_export(*, tenant: Tenant, user: User, format: str, progress: Progress) -> tuple[bytes, dict[str, Any]]:
    """The user's tasks in the tenant, rendered by the Task resource's own serializer; (content, summary)."""
    tasks = Task.objects.filter(tenant=tenant, user=user).order_by("pk")
    total = tasks.count()
    serializer = api.site.get_serializer(Task)
    rows = []
    for number, task in enumerate(tasks.iterator(chunk_size=500), start=1):
        rows.append({name: serializer(task).data[name] for name in EXPORT_FIELDS})
        if number % 100 == 0 or number == total:
            progress(number * 100 // max(total, 1), step="exporting", message=f"{number} of {total} tasks")
    if format == "json":
        content = json.dumps(rows, indent=2).encode()
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
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


def task_import(*, tenant: Tenant, user: User, format: str, content: str,
                progress: Progress) -> dict[str, Any]:
    """Create a task for every valid row; rejected rows are reported by row number with their errors and
    write nothing. Each valid row is validated by the Task resource's own serializer (same rules as POST)."""
    try:
        rows = parse_rows(format=format, content=content)
    except (ValueError, csv.Error) as error:
        return {"created": 0, "rejected": [{"row": None, "errors": {"content": [str(error)]}}]}
    serializer_class = api.site.get_serializer(Task)
    created, rejected = 0, []
    for number, row in enumerate(rows, start=1):
        data = {name: row[name] for name in IMPORT_FIELDS if row.get(name) not in (None, "")}
        serializer = serializer_class(data=data)
        if serializer.is_valid():
            with transaction.atomic():
                Task.objects.create(tenant=tenant, user=user, **serializer.validated_data)
            created += 1
        else:
            rejected.append({"row": number, "errors": serializer.errors})
        if number % 50 == 0 or number == len(rows):
            progress(number * 100 // len(rows), step="importing", message=f"{number} of {len(rows)} rows")
    return {"created": created, "rejected": rejected}
