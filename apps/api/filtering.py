"""`ResourceFilterSet`: the base of every generated FilterSet, so any value a client sends is either valid SQL or a 400."""
from datetime import datetime, timezone
from typing import Any

from django import forms
from django.db import models
from django_filters import FilterSet, filters


class UTCDateTimeField(forms.DateTimeField):
    """A datetime converted to UTC, as DRF's serializer DateTimeField does on writes.

    Python accepts UTC offsets up to ±23:59 but PostgreSQL only up to ±15:59, so
    `?created_before=2025-01-01T00:00+17:09` passed through unchanged failed in the database (a 500).
    """

    def to_python(self, value: Any) -> datetime | None:

        value = super().to_python(value)
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:  # year 1 with a positive offset is before the first representable instant
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UTCDateTimeFilter(filters.DateTimeFilter):
    field_class = UTCDateTimeField


class ResourceFilterSet(FilterSet):
    FILTER_DEFAULTS = {**FilterSet.FILTER_DEFAULTS, models.DateTimeField: {"filter_class": UTCDateTimeFilter}}
