"""Field permissions and row filters per tenant role: reads, writes, actions, schema and admin follow the declaration."""
import types

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.api import field_access
from apps.api.conf import api_settings
from apps.api.factories import build_admin
from apps.api.testing import fresh_site
from apps.tenants.models import Membership
from tests.conftest import client_for, make_user
from tests.testapp.api import NoteResource
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db

#: What the serializer path gives instead of rows rendered with orjson (rendering.py): both must follow the rules.
SERIALIZER_PATH = {"HTTP_ACCEPT": "application/json; indent=2"}
RENDERINGS = pytest.mark.parametrize("headers", [{}, SERIALIZER_PATH], ids=["rows", "serializer"])


class GuardedNoteResource(NoteResource):
    """Notes of a tenant. Members never see a note's colour; tenant admins see it but cannot change it. Viewers
    see neither colours nor authors, and only pinned notes; members only unpinned ones."""

    field_permissions = {
        "viewer": {"hide": ["colour", "author"]},
        "member": {"hide": ["colour"]},
        "admin": {"read_only": ["colour"]},
    }
    row_filters = {"viewer": Q(pinned=True), "member": Q(pinned=False)}


@pytest.fixture
def site(serve_site):
    site = fresh_site()
    site.register(Note, GuardedNoteResource)
    return serve_site(site)


@pytest.fixture
def red_note(tenant, user):
    return Note.objects.create(tenant=tenant, author=user, body="Red alert", colour=Note.Colour.RED)


@pytest.fixture
def pinned_red_note(tenant, user):
    return Note.objects.create(tenant=tenant, author=user, body="Pinned red", colour=Note.Colour.RED, pinned=True)


@pytest.fixture
def member_client(second_user, tenant):
    """`second_user` is a member of the tenant (with the `user` platform role: reads and writes)."""
    return client_for(second_user, tenant)


@pytest.fixture
def tenant_admin_client(tenant):
    return client_for(make_user("tenant-admin@example.com", tenant=tenant, membership_role=Membership.Role.ADMIN),
                      tenant)


@pytest.fixture
def tenant_viewer_client(mixed_user, tenant):
    """`mixed_user` is only a viewer in the tenant."""
    return client_for(mixed_user, tenant)


# --- reads ------------------------------------------------------------------------------------------------------------
@RENDERINGS
def test_a_member_lists_notes_without_the_hidden_colour(site, member_client, red_note, headers):
    response = member_client.get("/api/v1/notes/", **headers)

    assert response.status_code == 200
    assert [set(row) for row in response.json()["results"]] == [{"id", "body", "pinned", "author", "created_at"}]


@RENDERINGS
def test_the_owner_lists_notes_with_every_field(site, user_client, red_note, headers):
    response = user_client.get("/api/v1/notes/", **headers)

    assert response.json()["results"][0]["colour"] == "red"


@RENDERINGS
def test_a_member_reads_a_note_without_the_hidden_colour(site, member_client, red_note, headers):
    response = member_client.get(f"/api/v1/notes/{red_note.id}/", **headers)

    assert response.status_code == 200
    assert "colour" not in response.json()
    assert response.json()["body"] == "Red alert"


def test_a_viewer_reads_neither_colour_nor_author(site, tenant_viewer_client, pinned_red_note):
    response = tenant_viewer_client.get(f"/api/v1/notes/{pinned_red_note.id}/")

    assert set(response.json()) == {"id", "body", "pinned", "created_at"}


def test_a_hidden_column_is_not_even_read_from_the_database(site, member_client, red_note):
    with CaptureQueriesContext(connection) as queries:
        member_client.get("/api/v1/notes/")

    selects = [query["sql"] for query in queries if '"testapp_note"' in query["sql"]]
    assert selects and not any('"testapp_note"."colour"' in sql.split(" FROM ")[0] for sql in selects)


def test_a_platform_admin_is_held_to_no_role_rule(site, admin_client, red_note, pinned_red_note):
    response = admin_client.get("/api/v1/notes/")

    assert {row["colour"] for row in response.json()["results"]} == {"red"}
    assert response.json()["count"] == 2


def test_an_api_key_acts_with_its_owners_role(site, second_user, tenant, red_note):
    key = api_key_create(user=second_user, name="script", scopes=["notes:read"], allowed=role_scopes(second_user.role))
    client = TenantAPIClient(tenant=tenant).with_api_key(key.secret)

    response = client.get(f"/api/v1/notes/{red_note.id}/")

    assert response.status_code == 200
    assert "colour" not in response.json()


def test_a_declared_action_renders_without_the_hidden_colour(site, member_client, red_note):
    response = member_client.post(f"/api/v1/notes/{red_note.id}/pin")

    assert response.status_code == 200
    assert response.json()["pinned"] is True
    assert "colour" not in response.json()


def test_a_list_action_renders_without_the_hidden_fields(site, tenant_viewer_client, pinned_red_note):
    response = tenant_viewer_client.get("/api/v1/notes/pinned")

    assert response.status_code == 200
    assert [set(row) for row in response.json()] == [{"id", "body", "pinned", "created_at"}]


@pytest.mark.parametrize("query, parameter", [("colour=red", "colour"), ("ordering=colour", "ordering"),
                                              ("ordering=-created_at,-colour", "ordering")])
def test_filtering_or_ordering_on_a_hidden_field_is_a_400_naming_the_parameter(site, member_client, red_note, query,
                                                                             parameter):
    response = member_client.get(f"/api/v1/notes/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [parameter]


def test_the_owner_may_filter_on_the_field_members_cannot_see(site, user_client, red_note):
    response = user_client.get("/api/v1/notes/?colour=red&ordering=colour")

    assert response.json()["count"] == 1


# --- writes -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_member_writing_the_hidden_colour_is_a_403_naming_it_and_writes_nothing(site, member_client, red_note,
                                                                                 method):
    url = "/api/v1/notes/" if method == "post" else f"/api/v1/notes/{red_note.id}/"

    response = getattr(member_client, method)(url, {"body": "Changed", "colour": "green"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert list(response.json()["error"]["details"]) == ["colour"]
    assert list(Note.objects.values_list("body", "colour")) == [("Red alert", "red")]


def test_a_member_writes_the_fields_they_may_write(site, member_client, red_note):
    response = member_client.patch(f"/api/v1/notes/{red_note.id}/", {"body": "Changed"}, format="json")

    assert response.status_code == 200
    assert "colour" not in response.json()
    red_note.refresh_from_db()
    assert (red_note.body, red_note.colour) == ("Changed", "red")


def test_a_tenant_admin_writing_the_read_only_colour_is_a_400_naming_it(site, tenant_admin_client, red_note):
    response = tenant_admin_client.patch(f"/api/v1/notes/{red_note.id}/", {"colour": "green"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["colour"]
    red_note.refresh_from_db()
    assert red_note.colour == "red"


def test_a_tenant_admin_reads_the_colour_they_cannot_write(site, tenant_admin_client, red_note):
    response = tenant_admin_client.get(f"/api/v1/notes/{red_note.id}/")

    assert response.json()["colour"] == "red"


def test_the_owner_writes_the_colour(site, user_client, red_note):
    response = user_client.patch(f"/api/v1/notes/{red_note.id}/", {"colour": "green"}, format="json")

    assert response.status_code == 200
    assert response.json()["colour"] == "green"


# --- row filters --------------------------------------------------------------------------------------------------------
def test_a_viewer_lists_only_the_rows_their_filter_allows(site, tenant_viewer_client, red_note, pinned_red_note):
    response = tenant_viewer_client.get("/api/v1/notes/")

    assert [row["id"] for row in response.json()["results"]] == [pinned_red_note.id]


@pytest.mark.parametrize("client_name, visible", [("tenant_viewer_client", False), ("member_client", True),
                                                  ("user_client", True)])
def test_a_row_filtered_out_is_a_404_on_detail(request, site, red_note, client_name, visible):
    response = request.getfixturevalue(client_name).get(f"/api/v1/notes/{red_note.id}/")

    assert response.status_code == (200 if visible else 404)


def test_a_member_cannot_change_a_row_their_filter_leaves_out(site, member_client, pinned_red_note):
    response = member_client.patch(f"/api/v1/notes/{pinned_red_note.id}/", {"body": "Changed"}, format="json")

    assert response.status_code == 404
    pinned_red_note.refresh_from_db()
    assert pinned_red_note.body == "Pinned red"


def test_an_action_on_a_row_the_filter_leaves_out_is_a_404(site, member_client, pinned_red_note):
    response = member_client.post(f"/api/v1/notes/{pinned_red_note.id}/pin")

    assert response.status_code == 404


# --- one API for other surfaces (bulk, change events) -------------------------------------------------------------------
def test_the_rules_are_readable_by_other_surfaces(site, second_user, mixed_user, admin_user):
    resource = site.get_resource(Note)

    class Caller:
        def __init__(self, user, role):
            self.user, self.tenant_role = user, role

    assert field_access.hidden_fields(resource, Caller(second_user, "member")) == {"colour"}
    assert field_access.read_only_fields(resource, Caller(second_user, "admin")) == {"colour"}
    assert field_access.hidden_fields(resource, Caller(admin_user, "member")) == frozenset()
    assert field_access.visible_data({"id": 1, "colour": "red", "author": 2}, resource,
                                     Caller(mixed_user, "viewer")) == {"id": 1}
    assert field_access.hidden_fields(resource, Caller(second_user, "owner")) == frozenset()


def test_a_caller_of_unknown_role_is_held_to_every_roles_rules(site, second_user, red_note, pinned_red_note):
    resource = site.get_resource(Note)
    unknown = types.SimpleNamespace(user=second_user, tenant_role=None)

    assert field_access.hidden_fields(resource, unknown) == {"colour", "author"}
    assert field_access.read_only_fields(resource, unknown) == {"colour"}
    assert not field_access.filter_rows(Note.objects.all(), resource, unknown).exists()


def test_the_default_roles_are_the_tenant_membership_roles():
    assert api_settings.ROLES == tuple(Membership.Role.values)


# --- schema -------------------------------------------------------------------------------------------------------------
@pytest.fixture
def site_schema(site):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=[path("api/v1/", include(site.urls))]).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


def test_the_schema_generates_without_warnings(site_schema):
    assert site_schema[1] == []


@pytest.mark.parametrize("path_, method", [("/api/v1/notes/", "get"), ("/api/v1/notes/", "post"),
                                           ("/api/v1/notes/{id}/", "patch"), ("/api/v1/notes/{id}/pin/", "post")])
def test_each_operation_documents_the_rules_per_role(site_schema, path_, method):
    operation = site_schema[0]["paths"][path_][method]

    assert operation["x-field-permissions"] == {"viewer": {"hide": ["colour", "author"]},
                                                "member": {"hide": ["colour"]}, "admin": {"read_only": ["colour"]}}
    assert operation["x-row-filters"] == ["member", "viewer"]
    assert "- **member** cannot read or write `colour`." in operation["description"]
    assert "- **admin** cannot write `colour`." in operation["description"]


def test_the_response_component_requires_only_the_primary_key(site_schema):
    assert site_schema[0]["components"]["schemas"]["Note"]["required"] == ["id"]


# --- admin --------------------------------------------------------------------------------------------------------------
class ConsoleNoteResource(NoteResource):
    """Notes whose colour viewers never see, whose body tenant admins cannot change, and viewers see pinned only."""

    field_permissions = {"viewer": {"hide": ["colour"]}, "admin": {"read_only": ["body"]}}
    row_filters = {"viewer": Q(pinned=True)}


@pytest.fixture
def console_site(settings):
    """The generated admin page of those notes, on an admin site of its own."""
    site = fresh_site()
    site.register(Note, ConsoleNoteResource)
    admin_site = admin.AdminSite(name="guarded")
    admin_site.register(Note, build_admin(site.get_resource(Note)))
    urlconf = types.ModuleType("guarded_admin_urls")
    urlconf.urlpatterns = [path("admin/", admin_site.urls)]
    settings.ROOT_URLCONF = urlconf
    return admin_site


@pytest.fixture
def staff_console(db):
    """A staff member who may view and change notes, but is no superuser."""
    staff = make_user("staff@example.com", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_note", "change_note"]))
    client = Client()
    client.force_login(staff)
    return client


def test_a_staff_member_is_held_to_every_roles_row_filter_in_the_admin(console_site, staff_console, red_note,
                                                                       pinned_red_note):
    changelist = staff_console.get("/admin/testapp/note/")
    hidden_row = staff_console.get(f"/admin/testapp/note/{red_note.id}/change/")

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [pinned_red_note]
    assert hidden_row.status_code == 302  # the admin's answer to a row it cannot find


def test_a_staff_member_is_held_to_every_roles_field_rules_in_the_admin(console_site, staff_console, pinned_red_note):
    listed = staff_console.get("/admin/testapp/note/")
    changelist = listed.content.decode()
    change = staff_console.get(f"/admin/testapp/note/{pinned_red_note.id}/change/").content.decode()

    assert "column-colour" not in changelist and "column-body" in changelist
    assert [spec.title for spec in listed.context["cl"].filter_specs] == ["pinned"]
    assert 'name="colour"' not in change and "Pinned red" in change
    assert 'name="body"' not in change  # read-only for tenant admins, so shown as text


def test_a_superuser_sees_and_edits_every_field_in_the_admin_with_the_rules_shown(console_site, console, red_note):
    changelist = console.get("/admin/testapp/note/")
    change = console.get(f"/admin/testapp/note/{red_note.id}/change/").content.decode()

    assert changelist.context["cl"].result_count == 1
    assert 'name="colour"' in change and 'name="body"' in change
    assert "API: hidden from viewer." in change
    assert "API: read-only for admin." in change


def test_the_options_form_of_a_tenant_admin_offers_the_colour_as_read_only(site, tenant_admin_client, red_note):
    response = tenant_admin_client.options(f"/api/v1/notes/{red_note.id}/")

    assert response.json()["actions"]["PUT"]["colour"]["read_only"] is True
    assert response.json()["actions"]["PUT"]["body"]["read_only"] is False


def test_the_options_form_of_a_member_leaves_the_hidden_colour_out(site, member_client, red_note):
    response = member_client.options(f"/api/v1/notes/{red_note.id}/")

    assert "colour" not in response.json()["actions"]["PUT"]


@pytest.mark.parametrize("headers", [{}, SERIALIZER_PATH], ids=["rows", "serializer"])
def test_a_narrowed_list_costs_the_same_queries_at_any_page_size(site, member_client, tenant, user, headers):
    Note.objects.bulk_create([Note(tenant=tenant, author=user, body=f"Note {n}") for n in range(60)])
    member_client.get("/api/v1/notes/")  # the caller's membership is cached from here on
    counts = []
    for page_size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            member_client.get(f"/api/v1/notes/?page_size={page_size}", **headers)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_member_searching_finds_by_the_fields_they_may_read(site, member_client, red_note):
    response = member_client.get("/api/v1/notes/?search=alert")

    assert [row["id"] for row in response.json()["results"]] == [red_note.id]
