"""Figures computed in the database that several apps' statistics share: counts by a column, mean durations."""
from collections.abc import Iterable
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet


def counts_by(queryset: QuerySet, field: str, values: Iterable[Any] | None = None) -> dict[Any, int]:
    """Rows per value of `field` in one GROUP BY; with `values`, every one of them is present (0 when absent)."""
    counts = dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
    return counts if values is None else {value: counts.get(value, 0) for value in values}


def mean_seconds(queryset: QuerySet, start: str, end: str) -> float | None:
    """The mean of `end - start` over rows where both are set, in seconds (3 decimals), or None without any."""
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    mean = (queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
            .aggregate(mean=Avg(duration))["mean"])
    return round(mean.total_seconds(), 3) if mean is not None else None
