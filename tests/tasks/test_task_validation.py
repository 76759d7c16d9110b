"""Task input is validated field by field; a rejected request writes nothing."""
import pytest

from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


def details_of(response) -> dict:
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    return response.json()["error"]["details"]


def test_a_missing_title_is_required(user_client):
    response = user_client.post("/api/v1/tasks/", {"description": "No title"})

    assert details_of(response) == {"title": ["This field is required."]}


@pytest.mark.parametrize("title", ["", "   "], ids=["empty", "blank"])
def test_an_empty_title_is_refused(user_client, title):
    response = user_client.post("/api/v1/tasks/", {"title": title})

    assert details_of(response) == {"title": ["This field may not be blank."]}


def test_a_null_title_is_refused(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": None})

    assert list(details_of(response)) == ["title"]


def test_a_title_of_256_characters_is_too_long(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "x" * 256})

    assert details_of(response) == {"title": ["Ensure this field has no more than 255 characters."]}


@pytest.mark.parametrize("title", ["x", "x" * 255], ids=["1-char", "255-chars"])
def test_titles_of_1_to_255_characters_are_accepted(user_client, title):
    response = user_client.post("/api/v1/tasks/", {"title": title})

    assert response.status_code == 201
    assert response.json()["title"] == title


@pytest.mark.parametrize("field, value", [
    ("status", "done"),
    ("status", "Pending"),
    ("priority", "urgent"),
    ("priority", 3),
    ("due_date", "2030-13-01"),
    ("due_date", "tomorrow"),
    ("due_date", "2030-01-01T10:00:00Z"),
    ("description", None),
])
def test_an_invalid_value_is_reported_on_its_field(user_client, field, value):
    response = user_client.post("/api/v1/tasks/", {"title": "Valid", field: value})

    assert list(details_of(response)) == [field]


def test_every_invalid_field_is_reported_at_once(user_client):
    response = user_client.post("/api/v1/tasks/", {"title": "", "status": "done", "priority": "urgent",
                                                   "due_date": "soon"})

    assert set(details_of(response)) == {"title", "status", "priority", "due_date"}


def test_a_body_that_is_not_an_object_is_refused(user_client):
    response = user_client.post("/api/v1/tasks/", ["title", "x"])

    assert list(details_of(response)) == ["non_field_errors"]


@pytest.mark.parametrize("payload", [
    {},
    {"title": ""},
    {"title": "x" * 256},
    {"title": "Valid", "status": "done"},
    {"title": "Valid", "priority": "urgent"},
    {"title": "Valid", "due_date": "tomorrow"},
], ids=["missing-title", "empty-title", "long-title", "bad-status", "bad-priority", "bad-due-date"])
def test_a_rejected_create_writes_nothing(user_client, payload):
    user_client.post("/api/v1/tasks/", payload)

    assert not Task.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_rejected_update_leaves_every_field_as_it_was(user_client, task, method):
    payload = {"title": "New title", "description": "New", "status": "done"}

    response = getattr(user_client, method)(f"/api/v1/tasks/{task.id}/", payload)

    assert response.status_code == 400
    task.refresh_from_db()
    assert (task.title, task.description, task.status) == ("Write the spec", "", "pending")


def test_an_empty_title_on_patch_is_refused(user_client, task):
    response = user_client.patch(f"/api/v1/tasks/{task.id}/", {"title": ""})

    assert list(details_of(response)) == ["title"]
