"""ResourceSite as a registry: registering declarations, building their classes once, and settings overrides."""
import pytest
from django.contrib.admin import AdminSite, ModelAdmin
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test.utils import isolate_apps
from django_filters import ChoiceFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from apps import api
from apps.api import factories
from apps.api.conf import api_settings
from apps.api.sites import AlreadyRegistered, NotRegistered
from apps.api.testing import fresh_site
from apps.api.viewsets import ApiView
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.testapp.api import NoteResource
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db


class Stamped(models.Model):
    created_at = models.DateTimeField()

    class Meta:
        abstract = True
        app_label = "testapp"


def route_names(site) -> set[str]:
    return {pattern.name for pattern in site.urls}


# --- the registry ------------------------------------------------------------------------------


def test_a_fresh_site_has_no_resources():
    site = fresh_site()

    assert site.resources() == []
    assert not site.is_registered(Task)


def test_registering_a_model_makes_it_registered():
    site = fresh_site()

    site.register(Task, TaskResource)

    assert site.is_registered(Task)


def test_get_resource_returns_an_instance_of_the_declaration_bound_to_the_site():
    site = fresh_site()
    site.register(Task, TaskResource)

    resource = site.get_resource(Task)

    assert isinstance(resource, TaskResource)
    assert (resource.model, resource.site, resource.name) == (Task, site, "tasks")


def test_name_and_scope_default_to_the_models_plural_verbose_name():
    site = fresh_site()

    site.register(Note)

    assert (site.get_resource(Note).name, site.get_resource(Note).scope) == ("notes", "notes")


def test_registering_a_model_twice_raises_already_registered():
    site = fresh_site()
    site.register(Task, TaskResource)

    with pytest.raises(AlreadyRegistered, match="Task is already registered"):
        site.register(Task, TaskResource)


def test_unregistering_removes_the_model():
    site = fresh_site()
    site.register(Task, TaskResource)

    site.unregister(Task)

    assert not site.is_registered(Task)


def test_unregistering_a_model_that_is_not_registered_raises_not_registered():
    site = fresh_site()

    with pytest.raises(NotRegistered):
        site.unregister(Task)


def test_get_resource_of_a_model_that_is_not_registered_raises_not_registered():
    site = fresh_site()

    with pytest.raises(NotRegistered):
        site.get_resource(Task)


def test_an_abstract_model_is_refused():
    site = fresh_site()

    with pytest.raises(ImproperlyConfigured, match="abstract"):
        site.register(Stamped)


@isolate_apps("tests.testapp")
def test_a_model_with_a_composite_primary_key_is_refused():
    class Pair(models.Model):
        pk = models.CompositePrimaryKey("left", "right")
        left = models.IntegerField()
        right = models.IntegerField()

        class Meta:
            app_label = "testapp"

    site = fresh_site()

    with pytest.raises(ImproperlyConfigured, match="composite primary key"):
        site.register(Pair)


def test_the_register_decorator_registers_on_the_given_site_and_returns_the_class():
    site = fresh_site()

    decorated = api.register(Task, site=site)(TaskResource)

    assert decorated is TaskResource
    assert isinstance(site.get_resource(Task), TaskResource)


def test_the_public_package_refuses_unknown_names():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        api.Nope  # noqa: B018


# --- generation --------------------------------------------------------------------------------


@pytest.mark.parametrize("getter, expected_name", [
    ("get_serializer", "TaskSerializer"),
    ("get_filterset", "TaskFilterSet"),
    ("get_viewset", "TaskViewSet"),
])
def test_generated_classes_are_named_after_the_model(getter, expected_name):
    site = fresh_site()
    site.register(Task, TaskResource)

    generated = getattr(site, getter)(Task)

    assert generated.__name__ == expected_name


def test_the_generated_admin_is_named_after_the_model():
    site = fresh_site()
    site.register(Task, TaskResource)

    generated = factories.build_admin(site.get_resource(Task))

    assert generated.__name__ == "TaskAdmin"
    assert issubclass(generated, ModelAdmin)


@pytest.mark.parametrize("getter", ["get_serializer", "get_filterset", "get_viewset"])
def test_generated_classes_are_built_once_and_cached(getter):
    site = fresh_site()
    site.register(Task, TaskResource)

    first, second = getattr(site, getter)(Task), getattr(site, getter)(Task)

    assert first is second


def test_the_generated_serializer_exposes_exactly_the_declared_fields():
    site = fresh_site()
    site.register(Task, TaskResource)

    fields = site.get_serializer(Task)().fields

    assert list(fields) == list(TaskResource.fields)
    assert {name for name, field in fields.items() if field.read_only} == set(TaskResource.read_only)


def test_the_generated_filterset_has_one_filter_per_declared_parameter():
    site = fresh_site()
    site.register(Task, TaskResource)

    filters = site.get_filterset(Task).base_filters

    assert set(filters) == set(TaskResource.filters)
    assert isinstance(filters["status"], ChoiceFilter)


def test_the_generated_viewset_carries_the_declared_actions():
    site = fresh_site()
    site.register(Note, NoteResource)

    extra_actions = {action.__name__ for action in site.get_viewset(Note).get_extra_actions()}

    assert extra_actions == {"pin", "bodies", "pinned", "import_note"}


def test_a_hand_written_serializer_class_replaces_the_generated_one():
    class Hand(NoteResource):
        serializer_class = factories.build_serializer(NoteResource(Note, None))

    site = fresh_site()
    site.register(Note, Hand)

    assert site.get_serializer(Note) is Hand.serializer_class


def test_site_urls_route_every_registered_resource():
    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NoteResource)

    names = route_names(site)

    assert {"tasks-list", "tasks-detail", "notes-list", "notes-detail", "notes-pin", "notes-bodies"} <= names


def test_a_resource_registered_after_the_urls_were_built_is_routed():
    site = fresh_site()
    site.register(Task, TaskResource)
    site.urls  # noqa: B018

    site.register(Note, NoteResource)

    assert "notes-list" in route_names(site)


def test_a_hand_written_route_is_served_with_and_without_its_trailing_slash(serve_site, user_client):
    class PingView(APIView):
        def get(self, request):
            return Response({"pong": True})

    site = fresh_site()
    site.route("ping", PingView)
    serve_site(site)

    responses = [user_client.get("/api/v1/ping"), user_client.get("/api/v1/ping/")]

    assert [response.json() for response in responses] == [{"pong": True}, {"pong": True}]


class PurgeView(ApiView):
    """A hand-written endpoint that declares the scope it needs."""

    scope = "tasks:delete"

    def get(self, request):
        return Response({"purged": True})


@pytest.mark.parametrize("client_name, expected", [("user_client", 200), ("viewer_client", 403),
                                                   ("anon_client", 401)])
def test_a_hand_written_views_scope_is_enforced(serve_site, request, client_name, expected):
    site = fresh_site()
    site.route("purge", PurgeView)
    serve_site(site)
    client = request.getfixturevalue(client_name)

    response = client.get("/api/v1/purge")

    assert response.status_code == expected


def test_site_scopes_list_every_operation_and_action_scope():
    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NoteResource)

    scopes = site.scopes()

    assert scopes == {"tasks:read", "tasks:write", "tasks:delete", "notes:read", "notes:write", "notes:delete"}


def test_admin_only_resources_are_left_out_of_the_tenant_scopes():
    class StaffNotes(NoteResource):
        admin_only = True

    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, StaffNotes)

    scopes = site.scopes(include_admin_only=False)

    assert scopes == {"tasks:read", "tasks:write", "tasks:delete"}


def test_a_read_only_resource_declares_only_the_read_scope():
    class ReadOnlyNotes(api.Resource):
        tenant_field = "tenant"
        fields = ["id", "body"]
        operations = ("list", "retrieve")

    site = fresh_site()
    site.register(Note, ReadOnlyNotes)

    assert site.get_resource(Note).declared_scopes() == {"notes:read"}


# --- generated admin pages ---------------------------------------------------------------------


def test_register_admin_gives_each_resource_its_generated_admin():
    site = fresh_site()
    site.register(Task, TaskResource)
    admin_site = AdminSite(name="fresh-admin")

    site.register_admin(admin_site)

    assert type(admin_site.get_model_admin(Task)).__name__ == "TaskAdmin"


def test_register_admin_keeps_an_explicit_admin_registration():
    class HandWrittenTaskAdmin(ModelAdmin):
        pass

    site = fresh_site()
    site.register(Task, TaskResource)
    admin_site = AdminSite(name="fresh-admin")
    admin_site.register(Task, HandWrittenTaskAdmin)

    site.register_admin(admin_site)

    assert isinstance(admin_site.get_model_admin(Task), HandWrittenTaskAdmin)


def test_register_admin_skips_a_resource_that_opts_out():
    class NoAdminNotes(NoteResource):
        admin = False

    site = fresh_site()
    site.register(Note, NoAdminNotes)
    admin_site = AdminSite(name="fresh-admin")

    site.register_admin(admin_site)

    assert not admin_site.is_registered(Note)


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_the_projects_generated_task_admin_serves_its_pages(client, admin_user, task, page):
    client.force_login(admin_user)
    path = "/admin/tasks/task/" if page == "changelist" else f"/admin/tasks/task/{task.id}/change/"

    response = client.get(path)

    assert response.status_code == 200
    assert "Write the spec" in response.content.decode()


# --- settings overrides ------------------------------------------------------------------------


def override_resources(settings, resources: dict):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": resources}


def test_a_page_size_from_settings_overrides_the_declaration(settings, serve_site, user_client, user, tenant):
    override_resources(settings, {"tasks": {"page_size": 2}})
    site = fresh_site()
    site.register(Task, TaskResource)
    serve_site(site)
    Task.objects.bulk_create([Task(tenant=tenant, user=user, title=f"Task {n}") for n in range(3)])

    response = user_client.get("/api/v1/tasks/")

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (3, 2)


def test_enabled_false_in_settings_removes_the_route(settings):
    override_resources(settings, {"tasks": {"enabled": False}})
    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NoteResource)

    names = route_names(site)

    assert "tasks-list" not in names
    assert "notes-list" in names


def test_an_overridden_resource_keeps_its_declared_class_name(settings):
    override_resources(settings, {"tasks": {"page_size": 5}})
    site = fresh_site()
    site.register(Task, TaskResource)

    resource = site.get_viewset(Task).resource

    assert (type(resource).__name__, resource.page_size) == ("TaskResource", 5)
    assert isinstance(resource, TaskResource)


def test_options_the_generator_does_not_know_are_not_applied(settings):
    override_resources(settings, {"tasks": {"colour": "red"}})
    site = fresh_site()
    site.register(Task, TaskResource)

    resource = site.get_viewset(Task).resource

    assert resource is site.get_resource(Task)


def test_settings_changes_are_seen_without_a_restart(settings):
    settings.TESSERA_API = {**settings.TESSERA_API, "PAGE_SIZE": 7}

    assert api_settings.PAGE_SIZE == 7


def test_an_unknown_setting_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Unknown TESSERA_API setting"):
        api_settings.PAGE_SIZ  # noqa: B018
