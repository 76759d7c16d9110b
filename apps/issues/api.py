"""HTTP surface of the issues app: issues through the generator, plus stats and the workflow verbs."""
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from apps import api
from apps.projects.rates import CRUD_RATES, RESOURCE_RATES

from apps.projects.models import Project

from . import selectors, services
from .models import Issue


class IssueStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_priority = serializers.DictField(child=serializers.IntegerField())
    mean_time_to_resolve_seconds = serializers.FloatField(allow_null=True)


class ResolveInput(serializers.Serializer):
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=10_000,
                                       help_text="What resolved it (a commit, a pull request, a note).")


class AssignInput(serializers.Serializer):
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=10_000,
                                         help_text="Anything the resolver should know beyond the issue itself.")


class SyncInput(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all(),
                                                 help_text="A project of yours whose repository is on GitHub.")


class SyncResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


@api.register(Issue)
class IssueResource(api.Resource):
    """Issues of your projects, tracked here or synced from GitHub (`github_number`). Each user sees only their
    own issues inside the active tenant.

    `status` moves open -> in_progress -> resolved | closed (and back to open); any other change is a 400 naming
    `status`. Filter with `project`, `status`, `priority` and `label` (one label name); search title and
    description with `search`."""

    name = "issues"
    scope = "issues"
    tenant_field = "tenant"
    owner_field = "owner"
    events = True  # issues.created / .updated / .deleted / .resolve / .assign

    fields = ["id", "project", "title", "description", "status", "priority", "labels", "github_number", "agent",
              "resolution", "resolved_at", "created_at", "updated_at"]
    read_only = ["id", "github_number", "agent", "resolution", "resolved_at", "created_at", "updated_at"]
    filters = {"project": "project", "status": "status", "priority": "priority",
               "label": api.JSONListFilter("labels")}
    search = ["title", "description"]
    ordering = ["created_at", "priority", "status", "title"]
    default_ordering = ["-created_at"]
    throttle = RESOURCE_RATES
    throttles = {**CRUD_RATES, "stats": "30/m", "resolve": "10/m", "sync": "10/m", "assign": "10/m"}

    admin = api.Admin(list_display=("title", "project", "status", "priority", "owner", "tenant", "created_at"),
                      list_filter=("status", "priority", "tenant"), search_fields=("title",), extra={"actions": [
                          api.admin_action("assign", "Assign selected issues to a resolver agent",
                                           services.issue_assign, operator="assigned_by",
                                           done="assigned; its resolver run is queued"),
                      ]})

    def perform_update(self, request: Request, instance: Issue, data: dict[str, Any]) -> Issue:
        return services.issue_update(instance, data)

    @api.action(detail=False, scope="issues:read", output=IssueStatsSerializer)
    def stats(self, request: Request, queryset: QuerySet[Issue]) -> dict[str, Any]:
        """Counts by status and priority, and the mean time to resolve, over the issues the list filters select."""
        return selectors.issue_stats(queryset)

    @api.action(detail=True, methods=["post"], scope="issues:write", input=ResolveInput)
    def resolve(self, request: Request, issue: Issue, data: dict[str, Any]) -> Issue:
        """Mark an open or in-progress issue resolved. A resolved or closed one is 409 (reopen it first)."""
        return services.issue_resolve(issue, **data)

    @api.action(detail=False, methods=["post"], scope="issues:write", input=SyncInput, output=SyncResultSerializer)
    def sync(self, request: Request, data: dict[str, Any]) -> dict[str, int]:
        """Copy the project's GitHub issues in: new ones are created, known ones updated from GitHub (title,
        description, labels, open or closed). Answers how many of each. A project not on GitHub is 400."""
        return services.issues_sync(tenant=request.tenant, owner=request.user, **data)

    @api.action(detail=True, methods=["post"], scope="issues:write", input=AssignInput, status=202)
    def assign(self, request: Request, issue: Issue, data: dict[str, Any]) -> Issue:
        """Assign the issue to an issue_resolver agent, which starts working on it now (202): the issue is
        `in_progress`, then `resolved` when the run succeeds and says so, or `open` again. `agent` names it.
        Resolved or closed issues are 409; deployments without an agent service answer 400 naming `type`."""
        return services.issue_assign(issue, assigned_by=request.user, **data)
