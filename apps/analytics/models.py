"""Custom events clients report (POST /analytics/events), counted with the platform's own figures."""
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

EVENT_NAME = RegexValidator(r"^[a-z][a-z0-9_.:-]{0,99}$", "Lowercase letters, digits and _ . : - (at most 100), "
                                                          "starting with a letter.")


def no_properties() -> dict:
    return {}


class AnalyticsEvent(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, validators=[EVENT_NAME])
    properties = models.JSONField(default=no_properties, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "user", "-occurred_at"])]

    def __str__(self) -> str:
        return self.name
