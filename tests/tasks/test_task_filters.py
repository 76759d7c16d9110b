"""Filtering the task list: ?status=, ?priority=, ?due_before=, ?due_after=; bad values are a 400."""
import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(user, tenant):
    def make(title, status, priority, due_date):
        return Task(tenant=tenant, user=user, title=title, status=status, priority=priority, due_date=due_date)

    return Task.objects.bulk_create([
        make("January low", "pending", "low", "2030-01-15"),
        make("February high", "in_progress", "high", "2030-02-15"),
        make("March critical", "completed", "critical", "2030-03-15"),
        make("Undated medium", "cancelled", "medium", None),
    ])


def titles(response) -> set[str]:
    assert response.status_code == 200
    return {row["title"] for row in response.json()["results"]}


@pytest.mark.parametrize("status, expected", [
    ("pending", {"January low"}),
    ("in_progress", {"February high"}),
    ("completed", {"March critical"}),
    ("cancelled", {"Undated medium"}),
])
def test_status_filter_keeps_tasks_in_that_status(user_client, tasks, status, expected):
    response = user_client.get(f"/api/v1/tasks/?status={status}")

    assert titles(response) == expected


@pytest.mark.parametrize("priority, expected", [
    ("low", {"January low"}),
    ("medium", {"Undated medium"}),
    ("high", {"February high"}),
    ("critical", {"March critical"}),
])
def test_priority_filter_keeps_tasks_of_that_priority(user_client, tasks, priority, expected):
    response = user_client.get(f"/api/v1/tasks/?priority={priority}")

    assert titles(response) == expected


def test_due_before_includes_the_given_day_and_skips_undated_tasks(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?due_before=2030-02-15")

    assert titles(response) == {"January low", "February high"}


def test_due_after_includes_the_given_day_and_skips_undated_tasks(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?due_after=2030-02-15")

    assert titles(response) == {"February high", "March critical"}


def test_due_before_and_due_after_together_make_a_window(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?due_after=2030-02-01&due_before=2030-02-28")

    assert titles(response) == {"February high"}


def test_filters_combine_with_and(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?status=in_progress&priority=low")

    assert titles(response) == set()


def test_the_count_follows_the_filter(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?due_after=2030-01-01")

    assert response.json()["count"] == 3


def test_an_empty_filter_value_does_not_filter(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?status=")

    assert len(titles(response)) == 4


def test_a_parameter_that_is_not_a_declared_filter_is_ignored(user_client, tasks):
    response = user_client.get("/api/v1/tasks/?title=January low")

    assert len(titles(response)) == 4


@pytest.mark.parametrize("query, field", [
    ("status=done", "status"),
    ("status=PENDING", "status"),
    ("priority=urgent", "priority"),
    ("due_before=next-week", "due_before"),
    ("due_after=2030-02-30", "due_after"),
])
def test_an_invalid_filter_value_is_a_validation_error_on_that_parameter(user_client, tasks, query, field):
    response = user_client.get(f"/api/v1/tasks/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]


def test_filters_never_reach_other_users_tasks(user_client, tasks, second_user_task):
    response = user_client.get("/api/v1/tasks/?status=pending")

    assert titles(response) == {"January low"}


def test_list_filters_do_not_apply_to_a_detail_url(user_client, task):
    response = user_client.get(f"/api/v1/tasks/{task.id}/?status=completed&ordering=bogus")

    assert response.status_code == 200
    assert response.json()["id"] == task.id
