"""/ws/events/ shows each caller the events of exactly the rows the HTTP list shows them, live."""
import pytest

from apps.accounts.services import api_key_create
from apps.events.relay import relay_events
from apps.tenants.models import Membership
from tests.conftest import make_user
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


MEMBERS = "tenants/members"


def test_a_tenant_admin_receives_membership_events_as_the_member_list_shows_members(tenant, user_client,
                                                                                    second_user):
    tenant_admin = make_user("tenant-admin@example.com", tenant=tenant, membership_role=Membership.Role.ADMIN)

    with Socket("/ws/events/", token=access_token(tenant_admin), query=f"resources={MEMBERS}") as socket:
        assert subscribed(socket) == {"type": "subscribed", "resources": [MEMBERS], "refused": {}}
        user_client.patch(f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}/", {"role": "viewer"},
                          format="json")
        relay_events()

        event = socket.receive()

    listed = next(row for row in user_client.get(f"/api/v1/tenants/{tenant.pk}/members/").json()
                  if row["user_id"] == second_user.pk)
    assert (event["type"], event["tenant"], event["data"]) == ("membership.updated", tenant.pk, listed)


@pytest.mark.parametrize("persona", ["viewer", "second_user"])
def test_members_who_may_not_list_the_members_are_refused_their_events(request, persona, tenant, user_client,
                                                                        second_user):
    with Socket("/ws/events/", token=access_token(request.getfixturevalue(persona)),
                query=f"resources={MEMBERS}") as socket:
        answer = subscribed(socket)
        user_client.patch(f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}/", {"role": "viewer"},
                          format="json")
        relay_events()

        assert socket.nothing_received(wait=1)

    assert answer["refused"] == {MEMBERS: "only the tenant's owners and admins read its members"}


def test_an_owners_key_without_tenants_read_is_refused_membership_events(user, tenant, user_client, second_user):
    key = api_key_create(user=user, name="tasks only", scopes=["tasks:read"], allowed={"tasks:read"})

    with Socket("/ws/events/", query=f"resources={MEMBERS}&tenant={tenant.pk}",
                headers={"X-API-Key": key.secret}) as socket:
        answer = subscribed(socket)
        user_client.delete(f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}/")
        relay_events()

        assert socket.nothing_received(wait=1)

    assert answer["refused"] == {MEMBERS: "needs the tenants:read scope"}


def test_membership_events_stay_in_their_tenant(other_user, other_tenant, user_client, tenant, second_user):
    with Socket("/ws/events/", token=access_token(other_user), query=f"resources={MEMBERS}") as socket:
        assert subscribed(socket)["resources"] == [MEMBERS]  # the owner of their own tenant
        user_client.delete(f"/api/v1/tenants/{tenant.pk}/members/{second_user.pk}/")
        relay_events()

        assert socket.nothing_received(wait=1)
