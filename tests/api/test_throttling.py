"""Per-resource request rates: the settings set them, the cache counts them, a 429 says when to come back."""
import pytest
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.api.testing import fresh_site
from apps.api.viewsets import ApiView
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.testapp.api import NoteResource
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

# An hour, not a minute: the window is fixed, and a test straddling its edge would see the count reset.
RATE = "3/h"


class PublicView(ApiView):
    """An endpoint anyone may call; it is throttled by DEFAULT_THROTTLE like every hand-written view."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return Response({"ok": True})


@pytest.fixture
def throttled_site(settings, serve_site):
    """Tasks limited to 3 requests per client by TESSERA_API["RESOURCES"]; notes keep the default rate."""
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"throttle": RATE}}}
    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NoteResource)
    site.route("public", PublicView)
    return serve_site(site)


def spend(client, path: str, times: int) -> list:
    return [client.get(path) for _ in range(times)]


def test_requests_within_the_rate_report_what_is_left(throttled_site, user_client):
    responses = spend(user_client, "/api/v1/tasks/", 3)

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert [response["X-RateLimit-Limit"] for response in responses] == ["3", "3", "3"]
    assert [response["X-RateLimit-Remaining"] for response in responses] == ["2", "1", "0"]


def test_the_request_past_the_rate_is_429_throttled(throttled_site, user_client):
    spend(user_client, "/api/v1/tasks/", 3)

    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_a_throttled_response_says_when_to_retry_and_that_nothing_is_left(throttled_site, user_client):
    spend(user_client, "/api/v1/tasks/", 3)

    response = user_client.get("/api/v1/tasks/")

    assert 0 < int(response["Retry-After"]) <= 3600
    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("3", "0")


def test_a_throttled_write_writes_nothing(throttled_site, user_client):
    spend(user_client, "/api/v1/tasks/", 3)

    response = user_client.post("/api/v1/tasks/", {"title": "One too many"})

    assert response.status_code == 429
    assert not Task.objects.exists()


def test_each_user_has_their_own_budget(throttled_site, user_client, second_user_client):
    spend(user_client, "/api/v1/tasks/", 4)

    response = second_user_client.get("/api/v1/tasks/")

    assert response.status_code == 200


def test_an_api_key_has_a_budget_apart_from_its_owners_tokens(throttled_site, user_client, read_only_key_client):
    spend(user_client, "/api/v1/tasks/", 4)

    response = read_only_key_client.get("/api/v1/tasks/")

    assert response.status_code == 200


def test_an_api_key_that_spent_its_budget_is_throttled(throttled_site, read_only_key_client):
    spend(read_only_key_client, "/api/v1/tasks/", 3)

    response = read_only_key_client.get("/api/v1/tasks/")

    assert response.status_code == 429


def test_a_resource_rate_does_not_spend_another_resources_budget(throttled_site, user_client):
    spend(user_client, "/api/v1/tasks/", 4)

    response = user_client.get("/api/v1/notes/")

    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "1000"


def test_a_rate_declared_on_the_resource_applies_without_settings(serve_site, user_client):
    class SlowNotes(NoteResource):
        throttle = "1/h"

    site = fresh_site()
    site.register(Note, SlowNotes)
    serve_site(site)

    responses = spend(user_client, "/api/v1/notes/", 2)

    assert [response.status_code for response in responses] == [200, 429]


def test_the_default_rate_from_settings_applies_to_the_projects_resources(settings, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "DEFAULT_THROTTLE": "2/h"}

    responses = spend(user_client, "/api/v1/tasks/", 3)

    assert [response.status_code for response in responses] == [200, 200, 429]


def test_anonymous_callers_are_counted_by_address(settings, throttled_site, client):
    settings.TESSERA_API = {**settings.TESSERA_API, "ANON_THROTTLE": "1/h"}
    client.get("/api/v1/public", REMOTE_ADDR="203.0.113.7")

    responses = [client.get("/api/v1/public", REMOTE_ADDR="203.0.113.7"),
                 client.get("/api/v1/public", REMOTE_ADDR="203.0.113.8")]

    assert [response.status_code for response in responses] == [429, 200]


def test_without_a_rate_nothing_is_counted(settings, user_client):
    settings.TESSERA_API = {**settings.TESSERA_API, "DEFAULT_THROTTLE": None}

    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert not response.has_header("X-RateLimit-Limit")


def test_with_rate_limiting_switched_off_nothing_is_counted(settings, throttled_site, user_client):
    settings.RATELIMIT_ENABLE = False

    responses = spend(user_client, "/api/v1/tasks/", 4)

    assert [response.status_code for response in responses] == [200, 200, 200, 200]
    assert not responses[-1].has_header("X-RateLimit-Limit")
