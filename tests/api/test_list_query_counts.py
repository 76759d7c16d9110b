"""A generated list costs the same number of queries whatever the page size (no N+1 per row)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tasks.models import Task
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

ROWS = 60


@pytest.fixture
def sixty_tasks(user, tenant):
    return Task.objects.bulk_create([Task(tenant=tenant, user=user, title=f"Task {n}") for n in range(ROWS)])


@pytest.fixture
def sixty_notes(user, second_user, tenant):
    authors = [user, second_user]
    return Note.objects.bulk_create([Note(tenant=tenant, author=authors[n % 2], body=f"Note {n}") for n in range(ROWS)])


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("resource", ["tasks", "notes"])
def test_a_page_of_fifty_costs_the_same_queries_as_a_page_of_one(request, user_client, django_assert_num_queries,
                                                                  resource):
    request.getfixturevalue(f"sixty_{resource}")
    queries_for(user_client, f"/api/v1/{resource}/?page_size=1")  # the first request caches who the caller is
    one_row = queries_for(user_client, f"/api/v1/{resource}/?page_size=1")

    with django_assert_num_queries(one_row):
        response = user_client.get(f"/api/v1/{resource}/?page_size=50")

    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("resource", ["tasks", "notes"])
@pytest.mark.parametrize("page_size", [1, 50])
def test_a_list_page_stays_within_a_fixed_query_budget(request, user_client, django_assert_max_num_queries,
                                                       resource, page_size):
    request.getfixturevalue(f"sixty_{resource}")

    # Authenticate the token's user, resolve the membership, count, fetch the page.
    with django_assert_max_num_queries(4):
        response = user_client.get(f"/api/v1/{resource}/?page_size={page_size}&ordering=-created_at")

    assert response.json()["count"] == ROWS
