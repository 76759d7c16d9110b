"""The Migration Assistant user guide's surface: the migrations, presets, templates and webhooks resources,
validation, the system catalogue and the migration analytics at the guide's own root paths (`/migrations/`,
`/presets/`, `/templates/`, `/webhooks/`, `/validate/`, `/system/types`, `/analytics/migrations`), in the guide's
envelope.

Only the wrapping differs from /api/v1/ (apps/api/surfaces.py): lists are plain arrays paged by `limit` and
`offset` (totals in `X-Total-Count` and `Link`), creating a migration answers a receipt `{session_id, status,
message, created_at}`, the verbs answer `{session_id, status, message}`, and errors carry the guide's codes and a
`timestamp` inside the API.md envelope. The views, scoping and services are the ones /api/v1/ serves.
"""
from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps import api
from apps.api.conf import api_settings
from apps.platform import error_envelope as codes

from .models import MigrationRun, MigrationTemplate, Preset

DEFAULT_LIMIT = 100

#: The guide's error codes for the envelope's codes; a code the guide does not name is the envelope's in capitals.
GUIDE_CODES = {
    codes.VALIDATION_ERROR: "INVALID_CONFIGURATION",
    codes.NOT_AUTHENTICATED: "AUTHENTICATION_REQUIRED",
    codes.AUTHENTICATION_FAILED: "AUTHENTICATION_REQUIRED",
    codes.TOKEN_INVALID: "AUTHENTICATION_REQUIRED",
    codes.PERMISSION_DENIED: "INSUFFICIENT_PERMISSIONS",
    codes.UNPROCESSABLE: "VALIDATION_FAILED",
    codes.SERVER_ERROR: "INTERNAL_ERROR",
}
MIGRATION_NOT_FOUND = "MIGRATION_NOT_FOUND"
MIGRATION_ALREADY_RUNNING = "MIGRATION_ALREADY_RUNNING"

#: What each verb's receipt says, by the viewset action that answered.
RECEIPT_MESSAGES = {
    "create": "Migration session created successfully",
    "start": "Migration execution started in background",
    "cancel": "Migration cancellation initiated",
    "rollback": "Migration rollback started in background",
    "schedule": "Migration scheduled",
    "batch": "Migration session created successfully",
    "create_migration": "Migration session created from {kind} {preset}",
}
#: Receipts that record a new session carry its `created_at` too.
CREATING = {"create", "batch", "create_migration"}


def receipt_action(view: Any) -> str | None:
    """The verb whose answer the guide words as a receipt: one that answers migrations (creating a preset or a
    webhook answers the row itself)."""
    action = getattr(view, "action", None)
    model = getattr(getattr(view, "resource", None), "model", None)
    return action if action in RECEIPT_MESSAGES and (model is MigrationRun or action == "create_migration") else None


class GuidePagination(LimitOffsetPagination):
    """The guide's `limit` (default 100, at most the API's page maximum: a larger one is clamped, never an error)
    and `offset`; the page is a plain array, and its total and neighbours travel in `X-Total-Count` and `Link`."""

    default_limit = DEFAULT_LIMIT
    #: The headers its pages carry, for OpenAPI.
    response_headers = {
        "X-Total-Count": {"schema": {"type": "integer"}, "description": "Rows in the whole list."},
        "Link": {"schema": {"type": "string"}, "description": 'The neighbouring pages: `<url>; rel="next"`, '
                                                              '`<url>; rel="prev"`.'},
    }

    def paginate_queryset(self, queryset, request: Request, view=None) -> list:
        self.max_limit = max(api_settings.MAX_PAGE_SIZE, DEFAULT_LIMIT)
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request) -> int:
        return min(self._count_parameter(request, self.limit_query_param, minimum=1, default=self.default_limit),
                   self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._count_parameter(request, self.offset_query_param, minimum=0, default=0)

    @staticmethod
    def _count_parameter(request: Request, name: str, *, minimum: int, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise ValidationError({name: [f"Must be an integer of at least {minimum}."]})
        return value

    def get_paginated_response(self, data: list) -> Response:
        links = [f'<{url}>; rel="{rel}"' for rel, url in (("next", self.get_next_link()),
                                                          ("prev", self.get_previous_link())) if url]
        self.headers = {"X-Total-Count": str(self.count), **({"Link": ", ".join(links)} if links else {})}
        return Response(data)

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.limit_query_param, self.limit)
        offset = max(self.offset - self.limit, 0)
        return replace_query_param(url, self.offset_query_param, offset) if offset else remove_query_param(
            url, self.offset_query_param)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {"type": "array", "items": schema["items"] if schema.get("type") == "array" else schema}

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] = {
                "limit": f"Maximum results (default {DEFAULT_LIMIT}; a larger value is clamped to the maximum).",
                "offset": "Results to skip (default 0). The total is in X-Total-Count, neighbours in Link.",
            }[parameter["name"]]
        return parameters


class MigrationReceiptSerializer(serializers.Serializer):
    """What the guide's verbs answer: the session, its status now, and what happened."""

    session_id = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()


class MigrationCreatedSerializer(MigrationReceiptSerializer):
    """What creating a migration answers on the guide's paths."""

    created_at = serializers.DateTimeField()


class GuideErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="INVALID_CONFIGURATION (400), AUTHENTICATION_REQUIRED (401), "
                                           "INSUFFICIENT_PERMISSIONS (403), MIGRATION_NOT_FOUND or NOT_FOUND (404), "
                                           "MIGRATION_ALREADY_RUNNING or CONFLICT (409), VALIDATION_FAILED (422), "
                                           "THROTTLED (429), INTERNAL_ERROR (500), or another envelope code in "
                                           "capitals.")
    message = serializers.CharField()
    details = serializers.DictField(help_text="What went wrong: the fields of an invalid configuration (also as "
                                              "`validation_errors`), the scope that was missing, the session.")
    timestamp = serializers.DateTimeField()
    request_id = serializers.CharField()


class GuideErrorEnvelope(serializers.Serializer):
    """Every error on the guide's paths has this shape: the API.md envelope with the guide's codes."""

    error = GuideErrorDetail()


class GuideSurface(api.Surface):
    """The guide's paths for the migrations, presets, templates and webhooks resources, validation, the system
    catalogue and the migration analytics."""

    name = "Guide"
    tag = "Migration Assistant (guide paths)"
    # The guide's `POST /webhooks/` is the tenant's webhook subscriptions (its deliveries beside them).
    models = (MigrationRun, Preset, MigrationTemplate, "webhooks.WebhookDelivery", "webhooks.WebhookSubscription")
    routes = ("validate", "system/types", "system/modules", "analytics/migrations")
    pagination_class = GuidePagination
    error_envelope = GuideErrorEnvelope

    # --- errors ---------------------------------------------------------------------------------------------
    def error(self, error: dict[str, Any], *, status_code: int, view: Any) -> dict[str, Any]:
        code, details = error["code"], dict(error["details"])
        guide_code = GUIDE_CODES.get(code, code.upper())
        on_migrations = getattr(getattr(view, "resource", None), "model", None) is MigrationRun
        if code == codes.VALIDATION_ERROR:
            details["validation_errors"] = [{"field": field, "message": str(message)}
                                            for field, messages in error["details"].items()
                                            for message in (messages if isinstance(messages, list) else [messages])]
        elif guide_code == "AUTHENTICATION_REQUIRED":
            details.update(supported_methods=["Bearer", "API-Key"], auth_url="/auth/token")
        elif code == codes.PERMISSION_DENIED and hasattr(view, "required_scope"):
            details.update(required_scope=view.required_scope(),
                           current_scopes=sorted(getattr(view.request, "scopes", ())))
        elif code == codes.NOT_FOUND and on_migrations and view.detail:
            guide_code = MIGRATION_NOT_FOUND
            details["session_id"] = view.kwargs.get(view.lookup_url_kwarg)
        elif code == codes.CONFLICT and on_migrations and view.detail:
            guide_code, details = self._conflict(view, details)
        return {**error, "code": guide_code, "details": details, "timestamp": timezone.now().isoformat()}

    @staticmethod
    def _conflict(view: Any, details: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A busy migration's conflict is the guide's MIGRATION_ALREADY_RUNNING, with what it is doing."""
        run = view.get_queryset().filter(**view.resource.lookup(view.kwargs[view.lookup_url_kwarg])).first() \
            if view.resource.lookup else None
        if run is None or run.status not in MigrationRun.BUSY:
            return "CONFLICT", details
        return MIGRATION_ALREADY_RUNNING, {**details, "session_id": run.session_id, "current_status": run.status,
                                           "started_at": run.started_at.isoformat() if run.started_at else None}

    # --- answers --------------------------------------------------------------------------------------------
    def answer(self, view: Any, response: Response) -> Response:
        action = receipt_action(view)
        if action is None:
            return response
        model = getattr(getattr(view, "resource", None), "model", Preset)
        message = RECEIPT_MESSAGES[action].format(preset=view.kwargs.get(view.lookup_url_kwarg, ""),
                                                  kind=model._meta.verbose_name)
        if isinstance(response.data, list):
            response.data = [self._receipt(action, row, message) for row in response.data]
        elif isinstance(response.data, dict) and "session_id" in response.data:
            response.data = self._receipt(action, response.data, message)
        return response

    @staticmethod
    def _receipt(action: str, row: dict[str, Any], message: str) -> dict[str, Any]:
        receipt = {"session_id": row["session_id"], "status": row["status"], "message": message}
        if action in CREATING:
            receipt["created_at"] = row["created_at"]
        return receipt

    def answer_schema(self, view: Any, status_code: str) -> Any:
        action = receipt_action(view)
        if action is None or not status_code.startswith("2"):
            return None
        receipt = MigrationCreatedSerializer if action in CREATING else MigrationReceiptSerializer
        return receipt(many=True) if action == "batch" else receipt
