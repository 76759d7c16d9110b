"""A NUL character anywhere in input is a 400 naming the field, never a 500 from PostgreSQL.

PostgreSQL refuses NUL in text and in jsonb. DRF's CharField already refuses it; the generator also refuses
it inside JSON and dict fields (values and keys, however deep) of generated serializers, action inputs and
job params.
"""
import pytest

from apps.jobs.models import Job
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

NUL = "before\u0000after"


def refused_fields(response) -> set:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert all(messages == ["Null characters are not allowed."] for messages in error["details"].values())
    return set(error["details"])


def test_a_nul_in_a_task_title_is_a_400_naming_the_title(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": NUL}, format="json")

    assert refused_fields(response) == {"title"}


def test_a_nul_nested_in_a_jobs_params_is_a_400_naming_its_path(user_client):
    params = {"format": "csv", "content": "title\nx\n", "options": {"labels": ["ok", NUL]}}

    response = user_client.post("/api/v1/jobs/", {"type": "tasks.import", "params": params}, format="json")

    assert refused_fields(response) == {"params.options.labels.1"}
    assert not Job.objects.exists()


def test_a_nul_in_a_key_of_a_jobs_params_is_a_400(user_client):
    params = {"format": "csv", "content": "title\nx\n", NUL: "value"}

    response = user_client.post("/api/v1/jobs/", {"type": "tasks.import", "params": params}, format="json")

    assert refused_fields(response) == {"params.before\\u0000after"}


def test_a_nul_inside_a_json_action_input_is_a_400_and_writes_nothing(user_client):
    response = user_client.post("/api/v1/notes/import/", {"note": {"body": NUL}}, format="json")

    assert refused_fields(response) == {"note.body"}
    assert not Note.objects.exists()


def test_a_json_action_input_without_nul_goes_through(user_client):
    response = user_client.post("/api/v1/notes/import/", {"note": {"body": "Imported"}}, format="json")

    assert response.status_code == 201
    assert Note.objects.get().body == "Imported"


def test_a_nul_in_the_tenant_header_is_a_403_not_a_crash(user_client):
    response = user_client.get("/api/v1/tasks/", HTTP_X_TENANT_ID=NUL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
