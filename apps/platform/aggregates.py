"""Figures computed in the database that several apps' statistics share: counts by a column, mean durations, and
figures per period (hour, day, week or month) with the periods of a range, so every time series is cut alike."""
from collections.abc import Iterable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import TruncDay, TruncHour, TruncMonth, TruncWeek

#: Period width -> the database function that cuts a moment down to the start of its period (in UTC; weeks start
#: on Monday).
TRUNCATE = {"hour": TruncHour, "day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def counts_by(queryset: QuerySet, field: str, values: Iterable[Any] | None = None) -> dict[Any, int]:
    """Rows per value of `field` in one GROUP BY; with `values`, every one of them is present (0 when absent)."""
    counts = dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
    return counts if values is None else {value: counts.get(value, 0) for value in values}


def elapsed(start: str, end: str) -> ExpressionWrapper:
    """`end - start` of each row, as a duration (null where either is)."""
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def mean_seconds(queryset: QuerySet, start: str, end: str) -> float | None:
    """The mean of `end - start` over rows where both are set, in seconds (3 decimals), or None without any."""
    mean = (queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
            .aggregate(mean=Avg(elapsed(start, end)))["mean"])
    return round(mean.total_seconds(), 3) if mean is not None else None


def per_period(queryset: QuerySet, moment: str, width: str, **aggregates: Any) -> dict[datetime, dict[str, Any]]:
    """{start of each `width` period that holds rows: {name: its aggregate}}, by the rows' `moment`, in one
    GROUP BY. Periods without rows are absent: `periods()` lists them all."""
    rows = (queryset.annotate(period=TRUNCATE[width](moment, tzinfo=dt_timezone.utc)).values("period")
            .annotate(**aggregates).order_by())
    return {row.pop("period"): row for row in rows}


def period_start(moment: datetime, width: str) -> datetime:
    """The start of the `width` period holding `moment`, in UTC, as the database's TRUNCATE cuts it."""
    moment = moment.astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)
    if width == "hour":
        return moment
    moment = moment.replace(hour=0)
    if width == "week":
        return moment - timedelta(days=moment.weekday())
    return moment.replace(day=1) if width == "month" else moment


def periods(start: datetime, end: datetime, width: str) -> list[datetime]:
    """The start of every `width` period from the one holding `start` to the one holding `end`, oldest first."""
    moments, moment = [], period_start(start, width)
    while moment <= end:
        moments.append(moment)
        try:
            moment = next_period(moment, width)
        except (OverflowError, ValueError):  # the last period of year 9999 has no next
            break
    return moments


def next_period(moment: datetime, width: str) -> datetime:
    """The start of the period after the one starting at `moment`."""
    if width == "month":
        return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    return moment + {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[width]
