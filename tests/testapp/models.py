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


class Specimen(models.Model):
    """A column of every type the generator renders from rows (apps/api/rendering.py), each nullable, so
    tests/api/test_row_rendering.py can hold that rendering to the serializer's bytes on edge values."""

    class Shade(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    class Rank(models.IntegerChoices):
        LOW = 1, "Low"
        HIGH = 2, "High"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.CharField(max_length=6000, null=True)
    long_text = models.TextField(null=True)
    slug = models.SlugField(null=True)
    email = models.EmailField(null=True)
    url = models.URLField(null=True)
    shade = models.CharField(max_length=8, choices=Shade.choices, null=True)
    rank = models.IntegerField(choices=Rank.choices, null=True)
    small = models.SmallIntegerField(null=True)
    count = models.PositiveIntegerField(null=True)
    big = models.BigIntegerField(null=True)
    flag = models.BooleanField(null=True)
    ratio = models.FloatField(null=True)
    amount = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    token = models.UUIDField(null=True)
    address = models.GenericIPAddressField(null=True)
    data = models.JSONField(null=True)


class Label(models.Model):
    """Soft-deleted, with a name unique among a tenant's live labels: a deleted label frees its name
    (tests/api/test_soft_delete.py)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=50)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], condition=models.Q(deleted_at__isnull=True),
                                               name="testapp_label_live_name")]
