"""Task pages: 50 by default, ?page_size= clamped to 100, links to the neighbouring pages, 404 past the end."""
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


def make_tasks(user, tenant, count: int) -> list[Task]:
    return Task.objects.bulk_create([Task(tenant=tenant, user=user, title=f"Task {n:03}") for n in range(count)])


@pytest.fixture
def sixty(user, tenant):
    return make_tasks(user, tenant, 60)


@pytest.fixture
def hundred_and_fifty(user, tenant):
    return make_tasks(user, tenant, 150)


def query_of(link: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def test_a_page_has_fifty_rows_by_default(user_client, sixty):
    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (60, 50)


def test_the_first_page_links_to_the_next_and_to_no_previous(user_client, sixty):
    response = user_client.get("/api/v1/tasks/")

    assert query_of(response.json()["next"]) == {"page": "2"}
    assert response.json()["previous"] is None


def test_the_last_page_holds_the_rest_and_links_back(user_client, sixty):
    response = user_client.get("/api/v1/tasks/?page=2")

    assert len(response.json()["results"]) == 10
    assert response.json()["next"] is None
    assert response.json()["previous"] is not None


def test_links_keep_the_query_parameters(user_client, sixty):
    response = user_client.get("/api/v1/tasks/?page_size=20&page=2&ordering=title&status=pending")

    assert query_of(response.json()["next"]) == {"page": "3", "page_size": "20", "ordering": "title",
                                                  "status": "pending"}


def test_a_smaller_page_size_is_honoured(user_client, sixty):
    response = user_client.get("/api/v1/tasks/?page_size=7")

    assert len(response.json()["results"]) == 7


def test_a_page_size_of_exactly_the_maximum_is_honoured(user_client, hundred_and_fifty):
    response = user_client.get("/api/v1/tasks/?page_size=100")

    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize("page_size", ["101", "150", "1000000"])
def test_a_page_size_above_the_maximum_is_clamped_to_100(user_client, hundred_and_fifty, page_size):
    response = user_client.get(f"/api/v1/tasks/?page_size={page_size}")

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (150, 100)


@pytest.mark.parametrize("page_size", ["0", "-5", "many"])
def test_a_page_size_that_is_not_a_positive_number_falls_back_to_the_default(user_client, sixty, page_size):
    response = user_client.get(f"/api/v1/tasks/?page_size={page_size}")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("page", ["3", "999", "0"])
def test_a_page_beyond_the_end_is_not_found(user_client, sixty, page):
    response = user_client.get(f"/api/v1/tasks/?page={page}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_last_page_can_be_asked_for_by_name(user_client, sixty):
    response = user_client.get("/api/v1/tasks/?page=last")

    assert len(response.json()["results"]) == 10


def test_an_empty_list_is_one_empty_page(user_client):
    response = user_client.get("/api/v1/tasks/")

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_walking_the_pages_returns_every_task_once(user_client, sixty):
    seen, path = [], "/api/v1/tasks/?page_size=7&ordering=priority"

    while path:
        body = user_client.get(path).json()
        seen += [row["id"] for row in body["results"]]
        path = body["next"]

    assert sorted(seen) == sorted(task.id for task in sixty)
