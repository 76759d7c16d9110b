"""/ws/events/ shows each caller the events of exactly the rows the HTTP list shows them, live."""
import pytest

from apps.accounts.services import api_key_create
from apps.events.relay import relay_events
from tests.jobs.conftest import Socket, access_token

pytestmark = pytest.mark.usefixtures("transactional_db")

NOT_AUTHENTICATED = 4401


def subscribed(socket: Socket) -> dict:
    message = socket.receive()
    assert message["type"] == "subscribed"
    return message


def test_the_owner_receives_the_events_of_their_tasks_as_they_happen(user, user_client, tenant):
    with Socket("/ws/events/", token=access_token(user), query="resources=tasks") as socket:
        assert subscribed(socket) == {"type": "subscribed", "resources": ["tasks"], "refused": {}}
        task = user_client.post("/api/v1/tasks/", {"title": "Live"}, format="json").json()
        user_client.patch(f"/api/v1/tasks/{task['id']}/", {"status": "completed"}, format="json")
        relay_events()

        created, updated = socket.receive(), socket.receive()

    assert (created["type"], created["tenant"], created["data"]) == ("tasks.created", tenant.pk, task)
    assert (updated["type"], updated["data"]["status"]) == ("tasks.updated", "completed")
    assert created["id"] != updated["id"]


def test_a_subscription_can_be_sent_as_a_message(user, user_client):
    with Socket("/ws/events/", token=access_token(user)) as socket:
        socket.send({"subscribe": ["tasks", "nonsense"]})
        answer = subscribed(socket)
        user_client.post("/api/v1/tasks/", {"title": "By message"}, format="json")
        relay_events()

        event = socket.receive()

    assert answer["resources"] == ["tasks"]
    assert answer["refused"] == {"nonsense": "not a resource with change events"}
    assert event["data"]["title"] == "By message"


@pytest.mark.parametrize("persona", ["second_user", "viewer", "other_user"])
def test_nobody_but_the_owner_receives_task_events(request, persona, user_client):
    with Socket("/ws/events/", token=access_token(request.getfixturevalue(persona)), query="resources=tasks") as socket:
        assert subscribed(socket)["resources"] == ["tasks"]  # their own tasks' events, in their own tenant
        user_client.post("/api/v1/tasks/", {"title": "Not yours"}, format="json")
        relay_events()

        assert socket.nothing_received(wait=1)


def test_a_caller_without_tasks_read_is_refused_the_subscription_and_sees_nothing(user, tenant, user_client):
    key = api_key_create(user=user, name="jobs only", scopes=["jobs:read"], allowed={"jobs:read"})

    with Socket("/ws/events/", query=f"resources=tasks&tenant={tenant.pk}", headers={"X-API-Key": key.secret}) as socket:
        answer = subscribed(socket)
        user_client.post("/api/v1/tasks/", {"title": "Same owner, no scope"}, format="json")
        relay_events()

        assert socket.nothing_received(wait=1)

    assert answer == {"type": "subscribed", "resources": [], "refused": {"tasks": "needs the tasks:read scope"}}


def test_an_anonymous_socket_is_closed_with_4401():
    with Socket("/ws/events/", query="resources=tasks") as socket:
        assert socket.close_code() == NOT_AUTHENTICATED


def test_a_message_that_is_no_subscription_is_answered_with_an_error(user):
    with Socket("/ws/events/", token=access_token(user)) as socket:
        socket.send({"subscribe": 42})

        answer = socket.receive()

    assert answer["type"] == "error"
