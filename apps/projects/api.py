"""HTTP surface of the projects app; serializer, filters, viewset, routes, schema and admin are generated."""
from apps import api

from .models import Project
from .rates import CRUD_RATES, RESOURCE_RATES


@api.register(Project)
class ProjectResource(api.Resource):
    """Code repositories the agent platform works on. Each user sees only their own projects inside the active
    tenant; anyone else's is 404.

    `repository_url` is a GitHub repository (`https://github.com/<owner>/<name>`) or, on self-hosted
    deployments, the path of a git repository under the directories the operator allows. Filter with `enabled`;
    search name and description with `search`."""

    name = "projects"
    scope = "projects"
    tenant_field = "tenant"
    owner_field = "owner"
    events = True  # projects.created / .updated / .deleted, on /ws/events/ and to webhooks

    fields = ["id", "name", "description", "repository_url", "default_branch", "enabled", "created_at",
              "updated_at"]
    read_only = ["id", "created_at", "updated_at"]
    filters = {"enabled": "enabled"}
    search = ["name", "description"]
    ordering = ["name", "created_at"]
    default_ordering = ["-created_at"]
    throttle = RESOURCE_RATES
    throttles = CRUD_RATES

    admin = api.Admin(list_display=("name", "owner", "tenant", "repository_url", "enabled"),
                      list_filter=("enabled", "tenant"), search_fields=("name", "repository_url"))
