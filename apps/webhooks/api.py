"""HTTP surface of webhooks: a tenant's subscriptions (`/webhooks/`) and their deliveries (`/webhooks/deliveries/`)."""
import re
from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.request import Request

from apps import api
from apps.api.serializers import ResourceSerializer

from . import services
from .conf import webhooks_settings
from .delivery import USER_AGENT
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription

#: Headers a subscription may not set (lower case), each with why: every delivery sends its own.
RESERVED_HEADERS = {
    **dict.fromkeys(("webhook-id", "webhook-timestamp", "webhook-signature"),
                    "it is part of the Standard Webhooks signature, set on every delivery."),
    **dict.fromkeys(("content-length", "host", "transfer-encoding", "connection"),
                    "it is set for each request by the HTTP client."),
    "user-agent": f"deliveries identify themselves as {USER_AGENT}.",
}
#: The body's type may be named, as the Migration Assistant guide's example does, only as what it is.
CONTENT_TYPE = "application/json"
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


class RetryPolicySerializer(serializers.Serializer):
    max_retries = serializers.IntegerField(min_value=0, default=5,
                                           help_text="Retries after the first attempt (at most TESSERA_WEBHOOKS "
                                                     "MAX_RETRIES, 10 by default).")
    retry_delay = serializers.FloatField(min_value=0.1, max_value=86400, default=5.0,
                                         help_text="Seconds before the first retry; each next waits twice as long.")

    def validate_max_retries(self, value: int) -> int:
        if value > webhooks_settings.MAX_RETRIES:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to "
                                              f"{webhooks_settings.MAX_RETRIES}.")
        return value


class WebhookSubscriptionSerializer(ResourceSerializer):
    """Replaces the generated serializer: `secret` exists only in the response to create, and the retry policy is
    one object over two columns."""

    secret = serializers.SerializerMethodField(
        help_text="The signing secret (`whsec_...`). Shown once, in the response to create; keep it.")
    events = serializers.ListField(
        child=serializers.RegexField(r"^(\*|[a-z0-9_-]+(\.([a-z0-9_-]+|\*))*)$", max_length=150),
        min_length=1, max_length=50,
        help_text='Event types to receive; `*` matches any part: "tasks.created", "tasks.*", "*".')
    headers = serializers.DictField(
        child=serializers.CharField(max_length=1000), required=False,
        help_text="Extra request headers sent with every delivery (`Authorization`, ...). The signature's "
                  "(`webhook-*`), `Host`, `Content-Length`, `Transfer-Encoding`, `Connection` and `User-Agent` are "
                  "a 400 naming the header; `Content-Type` may only be `application/json`, what is sent anyway.")
    retry_policy = RetryPolicySerializer(source="*", required=False)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "headers", "active", "retry_policy", "secret",
                  "consecutive_failures", "disabled_reason", "created_at", "updated_at"]
        read_only_fields = ["id", "consecutive_failures", "disabled_reason", "created_at", "updated_at"]

    def get_secret(self, subscription: WebhookSubscription) -> str | None:
        return getattr(subscription, "secret_once", None)

    def validate_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Extra headers, each named once (in any case). The signature's and the connection's own are refused,
        naming the header; `Content-Type` only as `application/json`, what every delivery sends anyway."""
        if len(headers) > 20:
            raise serializers.ValidationError("At most 20 headers.")
        seen = set()
        for name, value in headers.items():
            lowered = name.lower()
            if not HEADER_NAME.fullmatch(name):
                raise serializers.ValidationError(f"{name!r} is not a header name.")
            if lowered in seen:
                raise serializers.ValidationError(f"{name!r} is given twice (header names ignore case).")
            seen.add(lowered)
            if lowered in RESERVED_HEADERS:
                raise serializers.ValidationError(f"{name!r} cannot be set: {RESERVED_HEADERS[lowered]}")
            if lowered == "content-type" and value.strip().lower() != CONTENT_TYPE:
                raise serializers.ValidationError(f"{name!r} can only be {CONTENT_TYPE}: every delivery is a JSON "
                                                  "body.")
        return headers


@api.register(WebhookSubscription)
class WebhookSubscriptionResource(api.Resource):
    """Webhook subscriptions of the active tenant: each matching change event is POSTed to `url`, signed by the
    Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
    id.timestamp.body>`, keyed by the base64 part of the secret). The secret is in the create response only.

    A URL whose host resolves to a loopback, private, link-local, metadata or reserved address is refused (400
    naming `url`), and checked again before every delivery. Failed attempts (timeouts, connection errors, 408,
    429, 5xx) are retried by the retry policy with exponential backoff; after a run of failed deliveries the
    subscription is switched off (`active` false, `disabled_reason` says why) until set active again.
    Owners and admins of the tenant manage its subscriptions; another tenant's are 404."""

    name = "webhooks"
    scope = "webhooks"
    tenant_field = "tenant"
    admin_only = True  # tenant owners and admins get webhooks:* from their membership (accounts.scopes)
    idempotent = False  # a replayed create would show the secret again, and keep it in the cache for a day
    serializer_class = WebhookSubscriptionSerializer
    fields = ["id", "name", "url", "events", "headers", "active", "consecutive_failures", "disabled_reason",
              "created_at", "updated_at"]
    read_only = ["id", "consecutive_failures", "disabled_reason", "created_at", "updated_at"]
    filters = {"active": "active"}
    search = ["name", "url"]
    ordering = ["created_at", "name"]
    default_ordering = ["-created_at"]
    admin = api.Admin(list_display=("name", "tenant", "url", "active", "consecutive_failures", "created_at"),
                      list_filter=("active",), readonly_fields=("consecutive_failures", "disabled_reason"),
                      # Django 6 drops http as the form's default scheme; receivers are mostly https anyway.
                      extra={"formfield_overrides": {models.URLField: {"assume_scheme": "https"}},
                             # A subscription is made through the API only: its create makes the signing secret
                             # and checks the URL (services.subscription_create); the console changes it after.
                             "has_add_permission": lambda admin, request: False})

    def perform_create(self, request: Request, data: dict[str, Any]) -> WebhookSubscription:
        return services.subscription_create(tenant=request.tenant, created_by=request.user, **data)

    def perform_update(self, request: Request, instance: WebhookSubscription,
                       data: dict[str, Any]) -> WebhookSubscription:
        return services.subscription_update(instance, **data)

    @api.action(detail=True, methods=["post"], scope="webhooks:write", output=WebhookDelivery, status=202)
    def test(self, request: Request, subscription: WebhookSubscription) -> WebhookDelivery:
        """Queue a `webhook.ping` delivery to this subscription (whatever its event patterns, and even while it
        is switched off) and return it; follow it at /webhooks/deliveries/{id}/. A ping never counts towards
        switching the subscription off."""
        return services.subscription_test(subscription)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "outcome", "status_code", "duration_ms", "response_excerpt", "response_truncated",
                  "error", "will_retry_in", "created_at"]


class WebhookDeliverySerializer(ResourceSerializer):
    """Replaces the generated serializer: a delivery shows every attempt made at it, oldest first."""

    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "event_type", "payload", "status", "attempt_count", "attempts",
                  "created_at", "finished_at"]
        read_only_fields = fields


@api.register(WebhookDelivery)
class WebhookDeliveryResource(api.Resource):
    """Deliveries of events to the active tenant's subscriptions, newest first, each with every attempt made at it
    (outcome, HTTP status, duration, the start of the answer). `payload` is the body that was signed and sent.
    Filter by `subscription`, `status`, `event_id` or `event_type`."""

    name = "webhooks/deliveries"
    scope = "webhooks"
    tenant_field = "tenant"
    admin_only = True
    serializer_class = WebhookDeliverySerializer
    operations = ("list", "retrieve")
    fields = ["id", "subscription", "event_id", "event_type", "payload", "status", "attempt_count", "created_at",
              "finished_at"]
    read_only = fields
    filters = {"subscription": "subscription", "status": "status", "event_id": "event_id",
               "event_type": "event_type"}
    ordering = ["created_at"]
    default_ordering = ["-created_at"]
    admin = False  # admin.py shows deliveries read-only, with their attempts

    def get_queryset(self, request: Request):
        return super().get_queryset(request).prefetch_related("attempts")

    @api.action(detail=True, methods=["post"], scope="webhooks:write", status=202)
    def redeliver(self, request: Request, delivery: WebhookDelivery) -> WebhookDelivery:
        """Send this delivery's event again: same `webhook-id` and body, so receivers can dedupe, with a fresh
        series of retries; the new attempts follow the earlier ones. A delivery still pending is 409."""
        return services.delivery_redeliver(delivery)
