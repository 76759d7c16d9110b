"""OpenAPI says which change events a resource announces, on its list operation."""
import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_the_tasks_list_names_the_task_events_and_the_stream(schema):
    description = schema["paths"]["/api/v1/tasks/"]["get"]["description"]

    assert "`tasks.created`, `tasks.deleted`, `tasks.updated`" in description
    assert "/ws/events/" in description


def test_a_resource_without_events_mentions_none(schema):
    assert "Change events" not in schema["paths"]["/api/v1/tenants/"]["get"]["description"]
