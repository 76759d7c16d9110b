"""`soft_delete` on any resource: uniqueness among live rows, the chokepoint for every reader, and its checks.

The `labels` resource of tests/testapp is soft-deleted, its name unique among a tenant's live labels through a
partial UniqueConstraint (condition deleted_at IS NULL).
"""
import pytest
from django.contrib.auth import get_user_model

from apps import api
from apps.api.checks import check_resource
from apps.api.scoping import scope_queryset
from apps.api.testing import fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.testapp.api import LabelResource
from tests.testapp.models import Label

pytestmark = pytest.mark.django_db


def create(client, name: str):
    return client.post("/api/v1/labels/", {"name": name}, format="json")


def test_a_deleted_labels_name_can_be_taken_again(user_client):
    first = create(user_client, "urgent").json()
    user_client.delete(f"/api/v1/labels/{first['id']}/")

    response = create(user_client, "urgent")

    assert response.status_code == 201
    assert Label.objects.filter(name="urgent").count() == 2


# PostgreSQL refuses the row (DRF does not validate a partial constraint over the tenant). In a test's own transaction
# that error would break the transaction, so these commit as the server does.
@pytest.mark.django_db(transaction=True)
def test_a_name_a_live_label_holds_is_a_conflict_naming_the_field(user_client):
    create(user_client, "urgent")

    response = create(user_client, "urgent")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"name": ["A row with this value already exists."]}
    assert Label.objects.filter(name="urgent").count() == 1


@pytest.mark.django_db(transaction=True)
def test_renaming_onto_a_live_labels_name_is_a_conflict(user_client):
    create(user_client, "urgent")
    other = create(user_client, "later").json()

    response = user_client.patch(f"/api/v1/labels/{other['id']}/", {"name": "urgent"}, format="json")

    assert response.status_code == 409
    assert Label.objects.get(pk=other["id"]).name == "later"


@pytest.mark.django_db(transaction=True)
def test_restoring_a_label_whose_name_was_taken_meanwhile_is_a_conflict(user_client):
    first = create(user_client, "urgent").json()
    user_client.delete(f"/api/v1/labels/{first['id']}/")
    create(user_client, "urgent")

    response = user_client.post(f"/api/v1/labels/{first['id']}/restore")

    assert response.status_code == 409
    assert Label.objects.get(pk=first["id"]).deleted_at is not None


def test_other_tenants_may_use_the_same_name(user_client, other_tenant_client):
    create(user_client, "urgent")

    assert create(other_tenant_client, "urgent").status_code == 201


def test_the_chokepoint_leaves_deleted_rows_out_for_every_caller_of_it(user, tenant):
    """Jobs (the tasks export) and sockets read through scope_queryset, not only the viewsets."""
    live = Task.objects.create(tenant=tenant, user=user, title="live")
    Task.objects.create(tenant=tenant, user=user, title="gone", deleted_at="2026-01-01T00:00:00Z")
    caller = type("Caller", (), {"user": user, "tenant": tenant})()
    resource = api.site.get_resource(Task)

    assert list(scope_queryset(Task.objects.all(), request=caller, resource=resource)) == [live]
    assert scope_queryset(Task.objects.all(), request=caller, resource=resource, include_deleted=True).count() == 2


def test_the_schema_documents_include_deleted_restore_and_purge():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert "include_deleted" in [p["name"] for p in paths["/api/v1/labels/"]["get"]["parameters"]]
    assert "200" in paths["/api/v1/labels/{id}/restore/"]["post"]["responses"]
    assert "204" in paths["/api/v1/labels/{id}/purge/"]["post"]["responses"]
    assert "Marks the row deleted" in paths["/api/v1/labels/{id}/"]["delete"]["description"]


# --- system checks ------------------------------------------------------------------------------------------------


def check(resource_class, model=Task) -> list:
    site = fresh_site()
    site.register(model, resource_class)
    return check_resource(site.get_resource(model))


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize("resource_class, model", [(TaskResource, Task), (LabelResource, Label)])
def test_the_soft_delete_declarations_pass_every_check(resource_class, model):
    assert check(resource_class, model) == []


def test_soft_delete_on_a_missing_field_is_e050():
    class Missing(TaskResource):
        soft_delete = "removed_at"

    errors = check(Missing)

    assert ids(errors) == ["api.E050"]
    assert "Missing.soft_delete" in errors[0].msg and "'removed_at'" in errors[0].msg


@pytest.mark.parametrize("field", ["created_at", "title", "due_date"])
def test_soft_delete_on_a_non_nullable_or_non_datetime_field_is_e051(field):
    class NotAMark(TaskResource):
        soft_delete = field

    assert ids(check(NotAMark)) == ["api.E051"]


def test_a_writable_mark_is_e052():
    class Writable(TaskResource):
        read_only = ["id", "created_at", "updated_at"]

    assert ids(check(Writable)) == ["api.E052"]


def test_an_action_named_like_a_soft_delete_verb_is_e053():
    class Clash(TaskResource):
        @api.action(detail=True, methods=["post"], scope="tasks:write")
        def restore(self, request, task):
            """Something else."""

    assert ids(check(Clash)) == ["api.E053"]


def test_a_unique_field_that_counts_deleted_rows_is_warned_about_as_w054():
    """The user's email is unique outright, so a "deleted" user would hold their address for good."""
    user_model = get_user_model()

    class Users(api.Resource):
        fields = ["id", "email", "last_login"]
        read_only = ["id", "last_login"]
        soft_delete = "last_login"  # any nullable DateTimeField will do for the check

    warnings = check(Users, user_model)

    assert ids(warnings) == ["api.W054"]
    assert "'email'" in warnings[0].msg
    assert "condition=Q(last_login__isnull=True)" in warnings[0].hint

