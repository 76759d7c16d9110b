"""The outbox: one row per change event, written in the change's own transaction."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.Model):
    """A change to one row, as `{id, type, tenant, occurred_at, data}`.

    `relayed_at` stays empty until the relay has handed the event to every receiver; the sweep relays whatever
    is still empty, so an event committed is delivered at least once (receivers dedupe by `id`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: "<resource>.<event>", e.g. "tasks.created", "migration.completed".
    type = models.CharField(max_length=150)
    #: The resource's name (`Resource.name`): which scope reads it and which subscribers want it.
    resource = models.CharField(max_length=100)
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    #: The row's owner on an owner-scoped resource (only they receive it on /ws/events/); empty otherwise.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)
    #: The row as the resource's serializer renders it.
    data = models.JSONField(default=dict)
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["tenant", "-occurred_at"], name="events_tenant_recent"),
            # The relay and the sweep read only what is left to relay; the partial index stays small.
            models.Index(fields=["occurred_at"], condition=Q(relayed_at__isnull=True), name="events_unrelayed"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def envelope(self) -> dict:
        """What receivers get: `{id, type, tenant, occurred_at, data}` (JSON-ready; tenant is its id)."""
        return {"id": str(self.id), "type": self.type, "tenant": self.tenant_id,
                "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"), "data": self.data}
