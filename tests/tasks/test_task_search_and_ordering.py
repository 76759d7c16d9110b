"""?search= over title and description, and ?ordering= over the allow-listed fields."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.tasks.models import Task
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [row["title"] for row in response.json()["results"]]


# --- search -----------------------------------------------------------------------------------------


@pytest.fixture
def searchable(user, tenant):
    return Task.objects.bulk_create([
        Task(tenant=tenant, user=user, title="Invoice ACME", description="Send by Friday"),
        Task(tenant=tenant, user=user, title="Call the bank", description="About the acme invoice"),
        Task(tenant=tenant, user=user, title="Water plants", description=""),
    ])


def test_search_finds_a_word_in_the_title(user_client, searchable):
    response = user_client.get("/api/v1/tasks/?search=plants")

    assert titles(response) == ["Water plants"]


def test_search_finds_a_word_in_the_description(user_client, searchable):
    response = user_client.get("/api/v1/tasks/?search=friday")

    assert titles(response) == ["Invoice ACME"]


def test_search_looks_in_title_and_description_ignoring_case(user_client, searchable):
    response = user_client.get("/api/v1/tasks/?search=Acme&ordering=title")

    assert titles(response) == ["Call the bank", "Invoice ACME"]


def test_search_with_several_words_needs_all_of_them(user_client, searchable):
    response = user_client.get("/api/v1/tasks/?search=acme bank")

    assert titles(response) == ["Call the bank"]


def test_search_without_a_match_is_an_empty_page(user_client, searchable):
    response = user_client.get("/api/v1/tasks/?search=holiday")

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_search_never_finds_other_users_tasks(user_client, searchable, second_user_task, other_tenant_task):
    response = user_client.get(f"/api/v1/tasks/?search={CANARY}")

    assert titles(response) == []
    assert CANARY not in response.content.decode()


# --- ordering ---------------------------------------------------------------------------------------


@pytest.fixture
def prioritised(user, tenant):
    """Titles sort differently from priorities, so an alphabetical priority sort would show."""
    return Task.objects.bulk_create([
        Task(tenant=tenant, user=user, title="b-medium", priority="medium", due_date="2030-03-01"),
        Task(tenant=tenant, user=user, title="d-critical", priority="critical", due_date=None),
        Task(tenant=tenant, user=user, title="a-low", priority="low", due_date="2030-01-01"),
        Task(tenant=tenant, user=user, title="c-high", priority="high", due_date="2030-02-01"),
    ])


def test_ordering_by_priority_follows_severity_from_low_to_critical(user_client, prioritised):
    response = user_client.get("/api/v1/tasks/?ordering=priority")

    assert titles(response) == ["a-low", "b-medium", "c-high", "d-critical"]


def test_ordering_by_descending_priority_puts_critical_first(user_client, prioritised):
    response = user_client.get("/api/v1/tasks/?ordering=-priority")

    assert titles(response) == ["d-critical", "c-high", "b-medium", "a-low"]


def test_ordering_by_due_date_puts_undated_tasks_last(user_client, prioritised):
    response = user_client.get("/api/v1/tasks/?ordering=due_date")

    assert titles(response) == ["a-low", "c-high", "b-medium", "d-critical"]


def test_ordering_by_descending_due_date_still_puts_undated_tasks_last(user_client, prioritised):
    response = user_client.get("/api/v1/tasks/?ordering=-due_date")

    assert titles(response) == ["b-medium", "c-high", "a-low", "d-critical"]


@pytest.mark.parametrize("ordering, expected", [
    ("title", ["a-low", "b-medium", "c-high", "d-critical"]),
    ("-title", ["d-critical", "c-high", "b-medium", "a-low"]),
])
def test_ordering_by_title_is_alphabetical(user_client, prioritised, ordering, expected):
    response = user_client.get(f"/api/v1/tasks/?ordering={ordering}")

    assert titles(response) == expected


@pytest.fixture
def aged(user, tenant):
    """Three tasks created a day apart, oldest first."""
    tasks = Task.objects.bulk_create([Task(tenant=tenant, user=user, title=title) for title in ("old", "mid", "new")])
    now = timezone.now()
    for age, task in zip((2, 1, 0), tasks):
        Task.objects.filter(pk=task.pk).update(created_at=now - timedelta(days=age))
    return tasks


def test_ordering_by_created_at_is_oldest_first(user_client, aged):
    response = user_client.get("/api/v1/tasks/?ordering=created_at")

    assert titles(response) == ["old", "mid", "new"]


def test_without_ordering_the_newest_task_comes_first(user_client, aged):
    response = user_client.get("/api/v1/tasks/")

    assert titles(response) == ["new", "mid", "old"]


def test_several_ordering_keys_apply_in_turn(user_client, user, tenant):
    Task.objects.bulk_create([
        Task(tenant=tenant, user=user, title="x", priority="high"),
        Task(tenant=tenant, user=user, title="z", priority="low"),
        Task(tenant=tenant, user=user, title="y", priority="high"),
    ])

    response = user_client.get("/api/v1/tasks/?ordering=-priority,-title")

    assert titles(response) == ["y", "x", "z"]


def test_ties_are_broken_by_creation_order_so_pages_are_stable(user_client, user, tenant):
    created = Task.objects.bulk_create([Task(tenant=tenant, user=user, title="same") for _ in range(5)])

    response = user_client.get("/api/v1/tasks/?ordering=title")

    assert [row["id"] for row in response.json()["results"]] == [task.id for task in created]


@pytest.mark.parametrize("ordering", ["bogus", "-bogus", "description", "user", "priority,tenant"])
def test_ordering_by_a_field_that_is_not_allowed_is_a_validation_error(user_client, prioritised, ordering):
    response = user_client.get(f"/api/v1/tasks/?ordering={ordering}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["ordering"]


def test_the_ordering_error_lists_the_allowed_keys(user_client):
    response = user_client.get("/api/v1/tasks/?ordering=deadline")

    assert response.json()["error"]["details"]["ordering"] == [
        "Cannot order by deadline. Choose from: created_at, due_date, priority, title."]


def test_search_and_ordering_combine(user_client, prioritised):
    response = user_client.get("/api/v1/tasks/?search=i&ordering=-priority")

    assert titles(response) == ["d-critical", "c-high", "b-medium"]
