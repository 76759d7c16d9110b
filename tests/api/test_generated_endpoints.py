"""Every generated operation and declared verb, exercised on `notes`, the resource declared only in tests."""
import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework import serializers

from apps import api
from apps.accounts.models import ApiKey
from apps.api.testing import fresh_site
from tests.conftest import CANARY, client_for, make_user
from tests.testapp.api import NoteBodySerializer, NoteResource
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db


# --- generated CRUD ----------------------------------------------------------------------------


def test_list_returns_the_tenants_notes_in_a_page(user_client, note, other_tenant_note):
    response = user_client.get("/api/v1/notes/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [row["id"] for row in response.json()["results"]] == [note.id]
    assert CANARY not in response.content.decode()


def test_notes_without_an_owner_are_shared_by_the_whole_tenant(second_user_client, note):
    response = second_user_client.get(f"/api/v1/notes/{note.id}/")

    assert response.status_code == 200
    assert response.json()["body"] == "Buy milk"


def test_create_stamps_tenant_and_author_from_the_request(user_client, user, tenant):
    response = user_client.post("/api/v1/notes/", {"body": "Call Bob", "colour": "red"})

    assert response.status_code == 201
    created = Note.objects.get(pk=response.json()["id"])
    assert (created.tenant, created.author, created.body, created.colour) == (tenant, user, "Call Bob", "red")


def test_create_ignores_read_only_fields_in_the_body(user_client, user, second_user):
    response = user_client.post("/api/v1/notes/", {"body": "Sneaky", "pinned": True, "author": second_user.id})

    assert response.status_code == 201
    assert (response.json()["pinned"], response.json()["author"]) == (False, user.id)


def test_create_without_a_body_is_a_validation_error(user_client):
    response = user_client.post("/api/v1/notes/", {"colour": "red"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "body" in response.json()["error"]["details"]
    assert not Note.objects.exists()


def test_retrieve_returns_the_declared_fields_only(user_client, note):
    response = user_client.get(f"/api/v1/notes/{note.id}/")

    assert response.status_code == 200
    assert set(response.json()) == {"id", "body", "colour", "pinned", "author", "created_at"}


def test_put_replaces_the_writable_fields(user_client, note):
    response = user_client.put(f"/api/v1/notes/{note.id}/", {"body": "Buy oat milk", "colour": "red"})

    assert response.status_code == 200
    note.refresh_from_db()
    assert (note.body, note.colour) == ("Buy oat milk", "red")


def test_put_without_a_required_field_is_a_validation_error(user_client, note):
    response = user_client.put(f"/api/v1/notes/{note.id}/", {"colour": "red"})

    assert response.status_code == 400
    assert "body" in response.json()["error"]["details"]


def test_patch_changes_only_the_given_fields(user_client, note):
    response = user_client.patch(f"/api/v1/notes/{note.id}/", {"colour": "green"})

    assert response.status_code == 200
    note.refresh_from_db()
    assert (note.body, note.colour) == ("Buy milk", "green")


def test_delete_removes_the_note_and_returns_204(user_client, note):
    response = user_client.delete(f"/api/v1/notes/{note.id}/")

    assert response.status_code == 204
    assert not Note.objects.filter(pk=note.id).exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_tenants_note_is_not_found(user_client, other_tenant_note, method):
    response = getattr(user_client, method)(f"/api/v1/notes/{other_tenant_note.id}/", {"body": "x"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert CANARY not in response.content.decode()


def test_a_viewer_cannot_create_a_note(viewer_client):
    response = viewer_client.post("/api/v1/notes/", {"body": "Nope"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_user_without_any_tenant_is_told_to_choose_one(db):
    loner = client_for(make_user("loner@example.com"))

    response = loner.get("/api/v1/notes/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "X-Tenant-ID" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/notes/", "/api/v1/notes/{id}/",
                                  "/api/v1/notes/bodies?text=milk"])
def test_the_browsable_api_renders_generated_pages(user_client, note, path):
    response = user_client.get(path.format(id=note.id), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


NOTE_PATHS = [
    ("get", "/api/v1/notes{slash}", None, 200),
    ("post", "/api/v1/notes{slash}", {"body": "New"}, 201),
    ("get", "/api/v1/notes/{id}{slash}", None, 200),
    ("put", "/api/v1/notes/{id}{slash}", {"body": "Replaced", "colour": "red"}, 200),
    ("patch", "/api/v1/notes/{id}{slash}", {"colour": "red"}, 200),
    ("delete", "/api/v1/notes/{id}{slash}", None, 204),
    ("post", "/api/v1/notes/{id}/pin{slash}", None, 200),
    ("get", "/api/v1/notes/bodies{slash}?text=milk", None, 200),
]


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize("method, template, body, expected", NOTE_PATHS)
def test_every_path_answers_with_and_without_its_trailing_slash(user_client, note, method, template, body,
                                                                 expected, slash):
    path = template.format(id=note.id, slash=slash)

    response = getattr(user_client, method)(path, body)

    assert response.status_code == expected


# --- generated list features -------------------------------------------------------------------


@pytest.fixture
def three_notes(tenant, user):
    return Note.objects.bulk_create([
        Note(tenant=tenant, author=user, body="green tea", colour=Note.Colour.GREEN),
        Note(tenant=tenant, author=user, body="red alert", colour=Note.Colour.RED, pinned=True),
        Note(tenant=tenant, author=user, body="amber light", colour=Note.Colour.AMBER),
    ])


def bodies_of(response) -> list[str]:
    return [row["body"] for row in response.json()["results"]]


@pytest.mark.parametrize("query, expected", [("colour=red", ["red alert"]), ("pinned=true", ["red alert"])])
def test_declared_filters_narrow_the_list(user_client, three_notes, query, expected):
    response = user_client.get(f"/api/v1/notes/?{query}")

    assert bodies_of(response) == expected


def test_search_looks_in_the_declared_fields(user_client, three_notes):
    response = user_client.get("/api/v1/notes/?search=LIGHT")

    assert bodies_of(response) == ["amber light"]


def test_ordering_on_a_choice_field_follows_the_declared_choices(user_client, three_notes):
    response = user_client.get("/api/v1/notes/?ordering=colour")

    assert bodies_of(response) == ["red alert", "amber light", "green tea"]


def test_without_ordering_the_declared_default_applies(user_client, three_notes):
    response = user_client.get("/api/v1/notes/")

    assert bodies_of(response) == ["green tea", "red alert", "amber light"]


def test_an_undeclared_query_parameter_does_not_filter(user_client, three_notes):
    response = user_client.get("/api/v1/notes/?body=green tea")

    assert response.json()["count"] == 3


# --- declared verbs ----------------------------------------------------------------------------


def test_pin_pins_the_note_and_renders_it(user_client, note):
    response = user_client.post(f"/api/v1/notes/{note.id}/pin")

    assert response.status_code == 200
    assert response.json()["pinned"] is True
    note.refresh_from_db()
    assert note.pinned


def test_pinning_a_pinned_note_is_a_conflict(user_client, pinned_note):
    response = user_client.post(f"/api/v1/notes/{pinned_note.id}/pin")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["message"] == "This note is already pinned."


def test_pinning_twice_succeeds_then_conflicts(user_client, note):
    first = user_client.post(f"/api/v1/notes/{note.id}/pin")

    second = user_client.post(f"/api/v1/notes/{note.id}/pin")

    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("client_name, expected, code", [
    ("user_client", 200, None),
    ("second_user_client", 200, None),
    ("viewer_client", 403, "permission_denied"),
    ("read_only_key_client", 403, "permission_denied"),
    ("other_tenant_client", 404, "not_found"),
    ("anon_client", 401, "not_authenticated"),
])
def test_who_may_pin_a_note(request, note, client_name, expected, code):
    client = request.getfixturevalue(client_name)

    response = client.post(f"/api/v1/notes/{note.id}/pin")

    assert response.status_code == expected
    if code is not None:
        assert response.json()["error"]["code"] == code


def test_a_viewer_who_cannot_pin_leaves_the_note_unpinned(viewer_client, note):
    viewer_client.post(f"/api/v1/notes/{note.id}/pin")

    note.refresh_from_db()
    assert not note.pinned


def test_a_member_who_is_a_viewer_in_this_tenant_cannot_pin(mixed_client, tenant, note):
    response = mixed_client.post(f"/api/v1/notes/{note.id}/pin", HTTP_X_TENANT_ID=str(tenant.id))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_bodies_lists_matching_notes_through_the_output_serializer(user_client, note, three_notes):
    response = user_client.get("/api/v1/notes/bodies?text=milk")

    assert response.status_code == 200
    assert response.json() == [{"id": note.id, "body": "Buy milk"}]


def test_bodies_only_searches_the_active_tenant(user_client, other_tenant_note):
    response = user_client.get("/api/v1/notes/bodies?text=memo")

    assert response.json() == []


def test_bodies_is_open_to_readers(viewer_client, note):
    response = viewer_client.get("/api/v1/notes/bodies?text=milk")

    assert response.status_code == 200


def test_bodies_without_text_is_a_validation_error_on_text(user_client):
    response = user_client.get("/api/v1/notes/bodies")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"] == {"text": ["This field is required."]}


def test_bodies_with_too_long_a_text_is_a_validation_error(user_client):
    response = user_client.get(f"/api/v1/notes/bodies?text={'x' * 51}")

    assert response.status_code == 400
    assert "text" in response.json()["error"]["details"]


def test_a_declared_get_verb_refuses_other_methods(user_client):
    response = user_client.post("/api/v1/notes/bodies?text=milk")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- shapes of declaration the shipped resources do not use, on a fresh site --------------------


class RecolourInput(serializers.Serializer):
    colour = serializers.ChoiceField(choices=Note.Colour.choices)


class LabelOutput(serializers.Serializer):
    label = serializers.CharField()


class VerbNoteResource(NoteResource):
    """Notes with more verbs, to exercise every action signature the generator supports."""

    operations = ("list", "retrieve")

    @api.action(detail=True, methods=["post"], scope="notes:write", input=RecolourInput)
    def recolour(self, request, note, data):
        """Change the colour of a note."""
        Note.objects.filter(pk=note.pk).update(colour=data["colour"])
        return Note.objects.get(pk=note.pk)

    @api.action(detail=True, url_path="label", scope="notes:read", output=LabelOutput)
    def label(self, request, note):
        """The note's label."""
        return {"label": f"{note.colour}: {note.body}"}

    @api.action(detail=True, methods=["delete"], url_path="label", scope="notes:write", status=204)
    def clear_label(self, request, note):
        """Remove the note's label."""

    @api.action(detail=False, url_path=r"colour/(?P<colour>[a-z]+)", scope="notes:read",
                output=NoteBodySerializer, many=True)
    def by_colour(self, request, colour):
        """Notes of one colour."""
        return Note.objects.filter(tenant=request.tenant, colour=colour)


@pytest.fixture
def verb_site(serve_site):
    site = fresh_site()
    site.register(Note, VerbNoteResource)
    return serve_site(site)


def test_a_detail_verb_with_input_receives_the_object_and_the_validated_data(verb_site, user_client, note):
    response = user_client.post(f"/api/v1/notes/{note.id}/recolour", {"colour": "red"})

    assert response.status_code == 200
    assert response.json()["colour"] == "red"


def test_a_detail_verb_with_invalid_input_writes_nothing(verb_site, user_client, note):
    response = user_client.post(f"/api/v1/notes/{note.id}/recolour", {"colour": "purple"})

    assert response.status_code == 400
    assert "colour" in response.json()["error"]["details"]
    note.refresh_from_db()
    assert note.colour == "amber"


def test_a_verb_renders_its_declared_output(verb_site, user_client, note):
    response = user_client.get(f"/api/v1/notes/{note.id}/label")

    assert response.json() == {"label": "amber: Buy milk"}


def test_two_verbs_on_one_url_path_are_told_apart_by_method(verb_site, user_client, note):
    response = user_client.delete(f"/api/v1/notes/{note.id}/label")

    assert response.status_code == 204
    assert response.content == b""


def test_verbs_sharing_a_url_path_keep_their_own_scopes(verb_site, viewer_client, note):
    responses = [viewer_client.get(f"/api/v1/notes/{note.id}/label"),
                 viewer_client.delete(f"/api/v1/notes/{note.id}/label")]

    assert [response.status_code for response in responses] == [200, 403]


def test_named_groups_of_a_url_path_reach_the_verb(verb_site, user_client, note, three_notes):
    response = user_client.get("/api/v1/notes/colour/amber")

    assert response.status_code == 200
    assert sorted(row["body"] for row in response.json()) == ["Buy milk", "amber light"]


@pytest.mark.parametrize("method, path", [("post", "/api/v1/notes/"), ("delete", "/api/v1/notes/{id}/"),
                                          ("patch", "/api/v1/notes/{id}/")])
def test_operations_left_out_of_the_declaration_are_not_allowed(verb_site, user_client, note, method, path):
    response = getattr(user_client, method)(path.format(id=note.id), {"body": "x"})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


class GroupResource(api.Resource):
    """Permission groups: a model with a many-to-many field, which the stock resources lack."""

    scope = "tasks"  # borrows scopes the personas already hold; the global site does not know `groups`
    fields = ["id", "name", "permissions"]
    read_only = ["id"]


@pytest.fixture
def group_site(serve_site):
    site = fresh_site()
    site.register(Group, GroupResource)
    return serve_site(site)


@pytest.fixture
def two_permissions():
    return list(Permission.objects.order_by("pk")[:2])


def test_create_sets_many_to_many_fields_after_saving_the_row(group_site, user_client, two_permissions):
    ids = sorted(permission.id for permission in two_permissions)

    response = user_client.post("/api/v1/groups/", {"name": "Editors", "permissions": ids})

    assert response.status_code == 201
    assert sorted(Group.objects.get(name="Editors").permissions.values_list("id", flat=True)) == ids


def test_update_replaces_many_to_many_fields(group_site, user_client, two_permissions):
    first, second = two_permissions
    group = Group.objects.create(name="Editors")
    group.permissions.set([first])

    response = user_client.patch(f"/api/v1/groups/{group.id}/", {"permissions": [second.id]})

    assert response.status_code == 200
    assert list(group.permissions.values_list("id", flat=True)) == [second.id]


# --- rendering ---------------------------------------------------------------------------------


class KeyResource(api.Resource):
    """API keys, read-only: a model with nullable timestamps, which the stock resources lack."""

    name = "keys"
    scope = "tasks"
    owner_field = "user"
    fields = ["id", "name", "expires_at", "created_at"]
    read_only = ["id", "name", "expires_at", "created_at"]
    operations = ("list", "retrieve")


def test_an_unset_timestamp_renders_as_null(serve_site, user_client, read_only_key):
    site = fresh_site()
    site.register(ApiKey, KeyResource)
    serve_site(site)

    response = user_client.get(f"/api/v1/keys/{read_only_key.id}/")

    assert response.status_code == 200
    assert response.json()["expires_at"] is None


def test_timestamps_render_in_utc_with_a_z(user_client, note):
    response = user_client.get(f"/api/v1/notes/{note.id}/")

    assert response.json()["created_at"] == note.created_at.isoformat().replace("+00:00", "Z")


def test_a_configured_datetime_format_is_honoured(settings, user_client, note):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d"}

    response = user_client.get(f"/api/v1/notes/{note.id}/")

    assert response.json()["created_at"] == note.created_at.strftime("%Y-%m-%d")


class DatedNoteResource(api.Resource):
    """Notes filtered by when they were written."""

    name = "notes"
    scope = "notes"
    tenant_field = "tenant"
    fields = ["id", "body"]
    filters = {"created_before": "created_at__lte"}


@pytest.fixture
def dated_site(serve_site):
    site = fresh_site()
    site.register(Note, DatedNoteResource)
    return serve_site(site)


@pytest.mark.parametrize("offset", ["%2B17:09", "-15:59", "Z"])
def test_a_datetime_filter_takes_any_utc_offset_python_accepts(dated_site, user_client, note, offset):
    # PostgreSQL refuses offsets beyond ±15:59, so the filter must hand it UTC (this was a 500).
    response = user_client.get(f"/api/v1/notes/?created_before=2999-01-01T00:00:00{offset}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [note.id]


def test_a_datetime_filter_before_the_first_instant_is_a_validation_error(dated_site, user_client):
    response = user_client.get("/api/v1/notes/?created_before=0001-01-01T00:00:00%2B17:09")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_list_action_works_on_the_callers_queryset_and_renders_a_list_of_another_models_rows(
        user_client, note, pinned_note, other_tenant, other_user):
    Note.objects.create(tenant=other_tenant, author=other_user, body="Pinned elsewhere", pinned=True)

    response = user_client.get("/api/v1/notes/pinned?colour=green")

    assert response.status_code == 200
    assert [row["body"] for row in response.json()] == ["Already pinned"]
