"""`ResourceFilterSet`: the base of every generated FilterSet, so any value a client sends is either valid SQL or a 400."""
import json
from datetime import datetime, timezone
from typing import Any

from django import forms
from django.db import connections, models
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django_filters import FilterSet, filters
from django_filters.constants import EMPTY_VALUES


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


class JSONListFilter(filters.CharFilter):
    """Rows whose JSON list field holds the value as one of its elements: `filters = {"label":
    JSONListFilter("labels")}` makes `?label=bug` match `["bug", "ui"]` but not `["debug"]`.

    PostgreSQL answers with jsonb containment; SQLite (the embedded default), which has none, by looking for the
    element's JSON text in the stored text."""

    def __init__(self, field_name: str, **kwargs: Any) -> None:
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return queryset
        if connections[queryset.db].vendor == "postgresql":
            return queryset.filter(**{f"{self.field_name}__contains": [value]})
        text = f"_{self.field_name}_text"
        return queryset.annotate(**{text: Cast(self.field_name, TextField())}).filter(
            **{f"{text}__contains": json.dumps(value)})
