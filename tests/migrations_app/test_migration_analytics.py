"""Migration analytics (the guide's `GET /analytics/migrations`): figures of the tenant's runs in a date range,
computed in the database, at the guide's path and under /api/v1/."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.migrations_app import selectors
from apps.migrations_app.models import MigrationRun
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

GIB, MIB = 1024 ** 3, 1024 ** 2
Status = MigrationRun.Status
RANGE = {"start_date": "2024-08-01", "end_date": "2024-08-03"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 8, day, hour, minute, tzinfo=dt_timezone.utc) if day else datetime(
        2024, 7, 31, hour, minute, tzinfo=dt_timezone.utc)


def run(tenant, user, *, kind="directory", status, started=None, took=None, moved=None, rate=None) -> MigrationRun:
    """A run as the worker leaves it: its times, and the bytes and rate it measured (tracking.py's shape)."""
    part = "database" if kind == "postgresql" else "main"
    metrics = {"parts": {part: {"kind": "database" if kind == "postgresql" else "files", "done_bytes": moved}},
               "rate_average": rate} if moved is not None else {}
    return MigrationRun.objects.create(
        tenant=tenant, created_by=user, name=f"{kind} {status}", source={"type": kind}, destination={"type": kind},
        status=status, started_at=started, finished_at=started + took if started and took else None,
        metrics=metrics)


@pytest.fixture
def runs(tenant, other_tenant, user, second_user, other_user):
    """Five runs started in the range (one by a teammate), and some that must not count."""
    run(tenant, user, status=Status.COMPLETED, started=at(1, 10), took=timedelta(minutes=30), moved=GIB,
        rate=1_000_000)
    run(tenant, second_user, status=Status.FAILED, started=at(1, 12), took=timedelta(minutes=10), moved=512 * MIB,
        rate=3_000_000)
    run(tenant, user, status=Status.CANCELLED, started=at(2, 8), took=timedelta(minutes=1))
    run(tenant, user, kind="postgresql", status=Status.COMPLETED, started=at(3, 9),
        took=timedelta(hours=1, minutes=2, seconds=5), moved=MIB)
    run(tenant, user, status=Status.RUNNING, started=at(3, 10), moved=100)
    # Not counted: before the range, never started, another tenant's.
    run(tenant, user, status=Status.COMPLETED, started=at(0, 23, 59), took=timedelta(minutes=5), moved=GIB)
    run(tenant, user, status=Status.PENDING)
    run(other_tenant, other_user, status=Status.FAILED, started=at(2, 9), took=timedelta(minutes=3), moved=GIB)


@pytest.fixture
def guide_client(user):
    return client_for(user)


def test_the_guides_figures_from_the_tenants_runs(guide_client, runs):
    response = guide_client.get("/analytics/migrations", {**RANGE, "group_by": "day"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"start": "2024-08-01T00:00:00Z", "end": "2024-08-03T23:59:59.999999Z"}
    assert body["summary"] == {
        "total_migrations": 5, "successful_migrations": 2, "failed_migrations": 1, "success_rate": 66.7,
        "average_duration": "34m 2s", "average_duration_seconds": 2041.667,  # (30m + 10m + 1h 2m 5s) / 3
        "total_data_transferred": "1.5 GB", "total_bytes_transferred": GIB + 512 * MIB + MIB + 100}
    assert body["by_type"] == {"directory": {"count": 4, "success_rate": 50.0},
                               "postgresql": {"count": 1, "success_rate": 100.0}}
    assert body["performance_trends"] == [
        {"date": "2024-08-01", "migrations": 2, "avg_duration": "20m 0s", "avg_duration_seconds": 1200.0,
         "avg_transfer_rate": "1.9 MB/s", "avg_transfer_rate_bytes": 2_000_000},
        {"date": "2024-08-02", "migrations": 1, "avg_duration": None, "avg_duration_seconds": None,
         "avg_transfer_rate": None, "avg_transfer_rate_bytes": None},
        {"date": "2024-08-03", "migrations": 2, "avg_duration": "1h 2m 5s", "avg_duration_seconds": 3725.0,
         "avg_transfer_rate": None, "avg_transfer_rate_bytes": None},
    ]


@pytest.mark.parametrize("group_by, dates, counts", [
    ("week", ["2024-07-29"], [5]),  # 1 August 2024 is a Thursday: its week starts on Monday 29 July
    ("month", ["2024-08-01"], [5]),
])
def test_trends_are_grouped_by_week_or_month(guide_client, runs, group_by, dates, counts):
    trends = guide_client.get("/analytics/migrations", {**RANGE, "group_by": group_by}).json()["performance_trends"]

    assert [trend["date"] for trend in trends] == dates
    assert [trend["migrations"] for trend in trends] == counts


def test_dates_and_times_with_offsets_bound_the_range_exactly(guide_client, runs):
    response = guide_client.get("/analytics/migrations", {"start_date": "2024-08-01T11:00:00+00:00",
                                                          "end_date": "2024-08-03T11:00:00+02:00"})

    body = response.json()
    assert response.status_code == 200
    assert body["period"] == {"start": "2024-08-01T11:00:00Z", "end": "2024-08-03T09:00:00Z"}
    assert body["summary"]["total_migrations"] == 3  # the failed run, the cancelled one, the PostgreSQL one


def test_without_dates_the_range_is_the_last_30_days(guide_client, tenant, user):
    run(tenant, user, status=Status.COMPLETED, started=datetime.now(dt_timezone.utc) - timedelta(days=2),
        took=timedelta(minutes=1), moved=10)
    run(tenant, user, status=Status.COMPLETED, started=datetime.now(dt_timezone.utc) - timedelta(days=31),
        took=timedelta(minutes=1), moved=10)

    body = guide_client.get("/analytics/migrations").json()

    assert body["summary"]["total_migrations"] == 1
    assert len(body["performance_trends"]) == 31


def test_no_runs_is_zeros_and_nulls_never_an_error(guide_client):
    body = guide_client.get("/analytics/migrations", RANGE).json()

    assert body["summary"] == {"total_migrations": 0, "successful_migrations": 0, "failed_migrations": 0,
                               "success_rate": None, "average_duration": None, "average_duration_seconds": None,
                               "total_data_transferred": "0 B", "total_bytes_transferred": 0}
    assert body["by_type"] == {}
    assert [trend["migrations"] for trend in body["performance_trends"]] == [0, 0, 0]


def test_the_api_v1_path_answers_the_same_figures(guide_client, user_client, runs):
    guide = guide_client.get("/analytics/migrations", RANGE)
    tessera = user_client.get("/api/v1/analytics/migrations/", RANGE)

    assert tessera.status_code == 200 and tessera.json() == guide.json()


def test_a_viewer_reads_the_tenants_figures_and_another_tenant_sees_only_its_own(viewer_client, other_tenant_client,
                                                                                 runs):
    viewer = viewer_client.get("/analytics/migrations", RANGE)
    other = other_tenant_client.get("/analytics/migrations", RANGE)

    assert viewer.status_code == 200 and viewer.json()["summary"]["total_migrations"] == 5
    assert other.status_code == 200 and other.json()["summary"]["total_migrations"] == 1
    assert other.json()["by_type"] == {"directory": {"count": 1, "success_rate": 0.0}}


def test_a_key_without_the_migrations_read_scope_is_refused(read_only_key_client):
    response = read_only_key_client.get("/analytics/migrations", RANGE)

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "migrations:read"


def test_anonymous_callers_are_told_how_to_authenticate(anon_client):
    assert anon_client.get("/analytics/migrations").json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


@pytest.mark.parametrize("query, field", [
    ({"start_date": "last tuesday"}, "start_date"),
    ({"end_date": "2024-02-30"}, "end_date"),
    ({"end_date": "2024-08-01T25:00:00Z"}, "end_date"),
    ({"group_by": "year"}, "group_by"),
    ({"start_date": "2024-08-04", "end_date": "2024-08-03"}, "start_date"),
    ({"start_date": "2020-01-01", "end_date": "2024-01-01", "group_by": "day"}, "group_by"),
])
def test_a_bad_query_is_400_naming_the_parameter(guide_client, user_client, query, field):
    guide = guide_client.get("/analytics/migrations", query)
    tessera = user_client.get("/api/v1/analytics/migrations", query)

    assert guide.status_code == tessera.status_code == 400
    assert guide.json()["error"]["code"] == "INVALID_CONFIGURATION" and field in guide.json()["error"]["details"]
    assert tessera.json()["error"]["code"] == "validation_error" and field in tessera.json()["error"]["details"]


@pytest.mark.parametrize("query, periods", [
    ({"end_date": "0001-01-05"}, 5),
    ({"start_date": "9999-12-29", "end_date": "9999-12-31"}, 3),
    ({"start_date": "9999-01-01", "end_date": "9999-12-31", "group_by": "month"}, 12),
])
def test_the_first_and_last_days_there_are_answer_too(guide_client, query, periods):
    response = guide_client.get("/analytics/migrations", query)

    assert response.status_code == 200 and len(response.json()["performance_trends"]) == periods


def test_a_long_range_is_fine_with_a_wider_group_by(guide_client):
    response = guide_client.get("/analytics/migrations", {"start_date": "2020-01-01", "end_date": "2024-01-01",
                                                          "group_by": "month"})

    assert response.status_code == 200 and len(response.json()["performance_trends"]) == 49


def test_the_figures_take_three_queries_however_many_runs(tenant, user, runs, django_assert_num_queries):
    visible = MigrationRun.objects.filter(tenant=tenant)
    start, end = at(1, 0), at(3, 23, 59)

    with django_assert_num_queries(3):
        selectors.migration_analytics(visible, start=start, end=end, group_by="day")


def test_the_request_costs_the_same_queries_for_few_runs_or_many(guide_client, tenant, user):
    run(tenant, user, status=Status.COMPLETED, started=at(1, 10), took=timedelta(minutes=1), moved=1)
    guide_client.get("/analytics/migrations", RANGE)  # the caller's credentials and membership are cached now
    with CaptureQueriesContext(connection) as few:
        assert guide_client.get("/analytics/migrations", RANGE).status_code == 200
    for hour in range(20):
        run(tenant, user, kind=("directory", "sqlite", "postgresql")[hour % 3], status=Status.FAILED,
            started=at(1 + hour % 3, hour), took=timedelta(minutes=hour + 1), moved=hour)
    with CaptureQueriesContext(connection) as many:
        assert guide_client.get("/analytics/migrations", RANGE).json()["summary"]["total_migrations"] == 21

    assert len(many) == len(few)
