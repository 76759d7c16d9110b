"""Who may do what with tenant resources: one permission matrix over the personas."""
import pytest

from apps.accounts.testing import TenantAPIClient
from apps.tasks.models import Task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"

#: operation -> (HTTP method, whether it targets the persona's own task, body, status on success)
OPERATIONS = {
    "list": ("get", False, None, 200),
    "retrieve": ("get", True, None, 200),
    "create": ("post", False, {"title": "New"}, 201),
    "update": ("put", True, {"title": "Renamed", "status": "in_progress"}, 200),
    "partial_update": ("patch", True, {"status": "completed"}, 200),
    "destroy": ("delete", True, None, 204),
}
READERS_ONLY = {"list": True, "retrieve": True, "create": False, "update": False, "partial_update": False,
                "destroy": False}
EVERYTHING = dict.fromkeys(OPERATIONS, True)
#: persona -> which operations it may perform in `tenant`
ALLOWED = {
    "admin_user": EVERYTHING,          # platform admin, not even a member of `tenant`
    "user": EVERYTHING,                # owner of `tenant`
    "second_user": EVERYTHING,         # plain member of `tenant`
    "viewer": READERS_ONLY,            # platform viewer role
    "mixed_user": READERS_ONLY,        # member elsewhere, viewer membership in `tenant`
    "read_only_key": READERS_ONLY,     # API key of `user` holding only tasks:read
}


def acting_as(request, persona: str, tenant):
    """A client for `persona` pinned to `tenant`, and the user whose rows it sees."""
    if persona == "read_only_key":
        key = request.getfixturevalue("read_only_key")
        return TenantAPIClient(tenant=tenant).with_api_key(key.secret), key.user
    user = request.getfixturevalue(persona)
    return client_for(user, tenant), user


@pytest.mark.parametrize("persona, operation, allowed", [
    (persona, operation, allowed) for persona, table in ALLOWED.items() for operation, allowed in table.items()
])
def test_each_persona_may_perform_exactly_the_task_operations_its_scopes_allow(request, tenant, persona, operation,
                                                                              allowed):
    client, owner = acting_as(request, persona, tenant)
    own_task = Task.objects.create(tenant=tenant, user=owner, title="Mine")
    method, on_own_task, body, success = OPERATIONS[operation]

    response = getattr(client, method)(f"{TASKS}{own_task.pk}/" if on_own_task else TASKS, body)

    assert response.status_code == (success if allowed else 403)
    if not allowed:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("method, body", [("post", {"title": "New"}), ("patch", {"title": "Renamed"}),
                                          ("delete", None)])
def test_a_refused_write_by_a_viewer_changes_nothing(viewer_client, viewer, tenant, method, body):
    own_task = Task.objects.create(tenant=tenant, user=viewer, title="Mine")
    path = TASKS if method == "post" else f"{TASKS}{own_task.pk}/"

    getattr(viewer_client, method)(path, body)

    assert list(Task.objects.values_list("title", flat=True)) == ["Mine"]


def test_a_viewer_membership_does_not_limit_the_user_in_their_other_tenant(mixed_user, other_tenant):
    response = client_for(mixed_user, other_tenant).post(TASKS, {"title": "Allowed here"})

    assert response.status_code == 201


def test_anonymous_callers_are_not_authenticated(anon_client, tenant):
    response = anon_client.get(TASKS, HTTP_X_TENANT_ID=str(tenant.pk))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
