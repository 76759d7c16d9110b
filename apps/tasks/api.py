"""HTTP surface of the tasks app; serializer, filters, viewset, routes, schema and admin are generated."""
from apps import api

from .models import Task


@api.register(Task)
class TaskResource(api.Resource):
    """Personal to-do items. Each user sees only their own tasks inside the active tenant; anyone else's is 404.

    Filter with `status`, `priority`, `due_before` and `due_after`; search title and description with
    `search`; sort with `ordering` (priority sorts by severity, low to critical). DELETE marks a task deleted
    (`deleted_at`); `restore` brings it back, and `?include_deleted=true` lists it. Reads carry an ETag: send
    it back in `If-None-Match` for a 304, or in `If-Match` on a write so it fails (412) if the task changed."""

    name = "tasks"
    scope = "tasks"                 # tasks:read / tasks:write / tasks:delete
    tenant_field = "tenant"         # stamped from X-Tenant-ID, never writable
    owner_field = "user"            # stamped from request.user, never writable

    fields = ["id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at",
              "deleted_at"]
    read_only = ["id", "created_at", "updated_at", "deleted_at"]
    soft_delete = "deleted_at"      # DELETE marks; restore, purge and ?include_deleted=true
    etags = True                    # ETag, If-None-Match (304), If-Match (412)
    last_modified = "updated_at"

    filters = {                     # query parameter -> ORM lookup; nothing else is filterable
        "status": "status",
        "priority": "priority",
        "due_before": "due_date__lte",
        "due_after": "due_date__gte",
    }
    search = ["title", "description"]
    ordering = ["due_date", "priority", "created_at", "title"]
    default_ordering = ["-created_at"]
    events = True                   # tasks.created / .updated / .deleted, on /ws/events/ and to webhooks

    admin = api.Admin(list_display=("title", "user", "tenant", "status", "priority", "due_date"),
                      list_filter=("status", "priority", "tenant"))
