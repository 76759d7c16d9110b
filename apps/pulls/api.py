"""HTTP surface of the pulls app: tracked pull requests through the generator, plus stats, review and sync."""
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from apps import api
from apps.projects.rates import CRUD_RATES, RESOURCE_RATES
from apps.agents.configs import REVIEW_LEVELS

from . import selectors, services
from .models import PullRequest


class PullRequestStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    reviewed = serializers.IntegerField()
    by_approval_status = serializers.DictField(child=serializers.IntegerField())
    mean_code_quality_score = serializers.FloatField(allow_null=True)


class ReviewInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=REVIEW_LEVELS, default="standard",
                                    help_text="quick: lint; standard: plus complexity and performance; thorough: "
                                              "plus security.")


class ReviewSerializer(serializers.Serializer):
    pull_request = serializers.IntegerField(source="pk")
    status = serializers.CharField(source="reviewer.status", help_text="The review run's status.")
    agent = serializers.IntegerField(source="reviewer.pk")
    job = serializers.IntegerField(source="reviewer.job_id", allow_null=True)
    review = serializers.JSONField(source="reviewer.result", allow_null=True,
                                   help_text="summary, approval_status, comments (file, line, body), "
                                             "security_issues, performance_issues, code_quality_score.")


@api.register(PullRequest)
class PullRequestResource(api.Resource):
    """Pull requests your projects track: on GitHub by `number` (title, branches, state and size are read from
    GitHub), or on a local repository by `base` and `head` branches. Each user sees only their own.

    `review` starts a review of the lines the pull request changes (202); `GET review` gives the latest one."""

    name = "prs"
    scope = "prs"
    tenant_field = "tenant"
    owner_field = "owner"
    events = True  # prs.created / .updated / .deleted / .review / .sync

    fields = ["id", "project", "number", "title", "description", "base", "head", "state", "author", "additions",
              "deletions", "changed_files", "reviewer", "synced_at", "created_at", "updated_at"]
    read_only = ["id", "state", "author", "additions", "deletions", "changed_files", "reviewer", "synced_at",
                 "created_at", "updated_at"]
    filters = {"project": "project", "state": "state"}
    search = ["title"]
    ordering = ["created_at", "number"]
    default_ordering = ["-created_at"]
    throttle = RESOURCE_RATES
    throttles = {**CRUD_RATES, "stats": "30/m", "review": "5/m", "sync": "10/m"}

    admin = api.Admin(list_display=("__str__", "project", "number", "state", "owner", "tenant", "synced_at"),
                      list_filter=("state", "tenant"), search_fields=("title",), extra={"actions": [
                          api.admin_action("sync", "Sync selected pull requests from GitHub",
                                           services.pull_request_sync, done="synced from GitHub"),
                          api.admin_action("review", "Review selected pull requests (standard level)",
                                           services.pull_request_review, operator="started_by", level="standard",
                                           done="standard review queued"),
                      ]})

    def perform_create(self, request: Request, data: dict[str, Any]) -> PullRequest:
        return services.pull_request_track(tenant=request.tenant, owner=request.user, **data)

    @api.action(detail=False, scope="prs:read", output=PullRequestStatsSerializer)
    def stats(self, request: Request, queryset: QuerySet[PullRequest]) -> dict[str, Any]:
        """Counts by state, reviews by verdict and the mean code quality score, over the list's filters."""
        return selectors.pull_request_stats(queryset)

    @api.action(detail=True, methods=["post"], url_path="review", scope="prs:write", input=ReviewInput,
                output=ReviewSerializer, status=202)
    def review(self, request: Request, pull_request: PullRequest, data: dict[str, Any]) -> PullRequest:
        """Review the lines this pull request changes, at `level` (202); follow it with GET review. A review
        already queued or running is 409."""
        return services.pull_request_review(pull_request, level=data["level"], started_by=request.user)

    @api.action(detail=True, methods=["get"], url_path="review", scope="prs:read", output=ReviewSerializer)
    def latest_review(self, request: Request, pull_request: PullRequest) -> PullRequest:
        """The latest review: its run's status and, once completed, the review. Never reviewed: 404."""
        return selectors.reviewed(pull_request)

    @api.action(detail=True, methods=["post"], scope="prs:write")
    def sync(self, request: Request, pull_request: PullRequest) -> PullRequest:
        """Read the pull request from GitHub again. Pull requests of local repositories do not sync (400)."""
        return services.pull_request_sync(pull_request)
