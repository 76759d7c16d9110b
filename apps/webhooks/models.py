"""Webhooks: a tenant's subscriptions, one delivery per (subscription, event), and every attempt at it."""
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class WebhookSubscription(models.Model):
    """Where a tenant wants its change events sent. The signing secret signs every delivery; it is shown once, at
    creation, and never rendered again (not in the API, the admin or a log line), and is stored encrypted
    (`secret`, read through `services.signing_secret`)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="webhook_subscriptions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000, help_text="http(s) URL the events are POSTed to.")
    events = models.JSONField(default=list, help_text='Event type patterns: "tasks.created", "tasks.*", "*".')
    headers = models.JSONField(default=dict, blank=True, help_text="Extra request headers sent with each delivery.")
    active = models.BooleanField(default=True)
    max_retries = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(100)])
    retry_delay = models.FloatField(default=5.0, validators=[MinValueValidator(0.0)],
                                    help_text="Seconds before the first retry; each next one waits twice as long.")
    #: The signing secret (`whsec_...`), encrypted (apps/platform/encryption.py, TESSERA_WEBHOOKS SECRETS_KEY).
    secret = models.TextField(editable=False, help_text="The signing secret, encrypted (Fernet).")
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "active"])]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription. The body is kept, so retries and redeliveries send the same bytes' content;
    (subscription, event_id) is unique, so an event relayed twice is delivered once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="webhook_deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=150)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    #: attempt_count when the current series began (a redelivery begins a new one, with retries of its own).
    series_start = models.PositiveSmallIntegerField(default=0, editable=False)
    #: While pending: when the next attempt is due, or, once a worker has claimed the attempt, until when the claim
    #: holds. The sweep re-queues a pending delivery only once this lies well in the past (its task was lost), and
    #: a worker attempts only what it claims, so two tasks for one delivery send it once. Database time throughout.
    next_attempt_at = models.DateTimeField(db_default=Now(), editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["subscription", "event_id"],
                                               name="webhooks_one_delivery_per_event")]
        indexes = [models.Index(fields=["subscription", "-created_at"]),
                   # The sweep reads only pending deliveries; the partial index stays small.
                   models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhooks_pending_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what came back (or why nothing did), never the secret or the signature."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        HTTP_ERROR = "http_error", "HTTP error"
        TIMEOUT = "timeout", "Timeout"
        CONNECTION_ERROR = "connection_error", "Connection error"
        REFUSED_TARGET = "refused_target", "Refused target"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_excerpt = models.TextField(blank=True)
    response_truncated = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    will_retry_in = models.FloatField(null=True, blank=True, help_text="Seconds until the next attempt, if any.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_number")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome} {self.status_code or ''}".strip()
