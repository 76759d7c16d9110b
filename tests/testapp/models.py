"""Models that exist only in tests, to exercise the generator with shapes the shipped apps lack."""
from django.db import models


class Note(models.Model):
    """Tenant-shared notes (no owner): every member of the tenant sees every note."""

    class Colour(models.TextChoices):
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        GREEN = "green", "Green"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE)
    author = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    body = models.CharField(max_length=200)
    colour = models.CharField(max_length=8, choices=Colour.choices, default=Colour.GREEN)
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
