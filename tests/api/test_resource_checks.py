"""System checks api.E0xx: a bad declaration fails `manage.py check`, naming the resource and the attribute."""
import pytest
from django.core.management import call_command
from rest_framework import serializers

from apps import api
from apps.api.checks import check_resource, check_resources
from apps.api.testing import fresh_site
from apps.jobs.models import Job
from apps.tasks.api import TaskResource
from apps.tasks.models import Task
from tests.testapp.api import NoteResource
from tests.testapp.models import Note

pytestmark = pytest.mark.django_db


def check(resource_class, model=Task) -> list:
    site = fresh_site()
    site.register(model, resource_class)
    return check_resource(site.get_resource(model))


def ids(errors) -> list[str]:
    return [error.id for error in errors]


@pytest.mark.parametrize("model, resource_class", [(Task, TaskResource), (Note, NoteResource)])
def test_the_shipped_declarations_pass_every_check(model, resource_class):
    assert check(resource_class, model) == []


def test_a_misspelled_field_is_e001_naming_the_resource_and_the_attribute():
    class Misspelled(TaskResource):
        fields = ["id", "titel"]
        read_only = ["id"]

    errors = check(Misspelled)

    assert ids(errors) == ["api.E001"]
    assert errors[0].msg.startswith("Misspelled.fields names 'titel'")
    assert errors[0].obj is Misspelled


def test_a_read_only_model_property_may_be_listed_in_fields():
    class WithDuration(api.Resource):
        fields = ["id", "type", "duration_seconds"]
        read_only = ["id", "duration_seconds"]

    assert check(WithDuration, Job) == []


def test_a_writable_model_property_is_e001():
    class WritableDuration(api.Resource):
        fields = ["id", "duration_seconds"]
        read_only = ["id"]

    assert ids(check(WritableDuration, Job)) == ["api.E001"]


def test_a_read_only_name_missing_from_fields_is_e002():
    class StrayReadOnly(TaskResource):
        read_only = ["id", "created_at", "updated_at", "deleted_at", "user"]

    assert ids(check(StrayReadOnly)) == ["api.E002"]


def test_a_search_field_the_model_lacks_is_e003():
    class BadSearch(TaskResource):
        search = ["title", "body"]

    assert ids(check(BadSearch)) == ["api.E003"]


@pytest.mark.parametrize("ordering", [["deadline"], ["tenant__name"]])
def test_an_ordering_that_is_not_a_local_field_is_e004(ordering):
    class BadOrdering(TaskResource):
        pass

    BadOrdering.ordering = ordering

    assert ids(check(BadOrdering)) == ["api.E004"]


@pytest.mark.parametrize("lookup", ["deadline", "due_date__bogus", "tenant__nope__exact"])
def test_a_filter_lookup_that_does_not_resolve_is_e005(lookup):
    class BadFilter(TaskResource):
        pass

    BadFilter.filters = {"due": lookup}

    assert ids(check(BadFilter)) == ["api.E005"]


def test_a_filter_through_a_relation_passes():
    class ByTenantSlug(TaskResource):
        filters = {"tenant": "tenant__slug__iexact"}

    assert check(ByTenantSlug) == []


def test_a_tenant_field_that_is_not_a_foreign_key_is_e006():
    class TitleTenant(TaskResource):
        tenant_field = "title"

    assert ids(check(TitleTenant)) == ["api.E006"]


@pytest.mark.parametrize("field, attribute", [("tenant", "tenant_field"), ("user", "owner_field")])
def test_a_writable_stamped_field_is_e007(field, attribute):
    class Writable(TaskResource):
        fields = [*TaskResource.fields, field]

    errors = check(Writable)

    assert ids(errors) == ["api.E007"]
    assert errors[0].msg.startswith(f"Writable.{attribute} '{field}' is writable")


def test_a_read_only_stamped_field_passes():
    class ShowsOwner(TaskResource):
        fields = [*TaskResource.fields, "user"]
        read_only = [*TaskResource.read_only, "user"]

    assert check(ShowsOwner) == []


def test_an_action_without_a_scope_is_e008():
    class Unscoped(NoteResource):
        @api.action(detail=True, methods=["post"])
        def archive(self, request, note):
            """Archive a note."""

    errors = check(Unscoped, Note)

    assert ids(errors) == ["api.E008"]
    assert errors[0].msg.startswith("Unscoped.archive")


def test_an_action_without_a_docstring_is_e009():
    class Undocumented(NoteResource):
        @api.action(detail=True, methods=["post"], scope="notes:write")
        def archive(self, request, note):
            return note

    assert ids(check(Undocumented, Note)) == ["api.E009"]


def test_a_resource_scope_that_is_not_lower_case_is_e010():
    class ShoutingScope(TaskResource):
        scope = "Tasks"

    assert ids(check(ShoutingScope)) == ["api.E010"]


@pytest.mark.parametrize("scope", ["notes-write", "notes:admin", "Notes:read"])
def test_an_action_scope_of_the_wrong_shape_is_e010(scope):
    class OddScope(NoteResource):
        @api.action(detail=True, methods=["post"], scope=scope)
        def archive(self, request, note):
            """Archive a note."""

    assert ids(check(OddScope, Note)) == ["api.E010"]


@pytest.mark.parametrize("attribute", ["fields", "filters", "search", "ordering"])
def test_all_instead_of_an_allow_list_is_e013(attribute):
    class Everything(TaskResource):
        pass

    setattr(Everything, attribute, "__all__")

    assert ids(check(Everything)) == ["api.E013"]


def test_an_unknown_operation_is_e014():
    class Upserting(TaskResource):
        operations = ("list", "upsert")
        bulk = ()  # TaskResource's bulk needs create, update and destroy (api.E042)

    assert ids(check(Upserting)) == ["api.E014"]


class NoteTitleSerializer(serializers.Serializer):
    title = serializers.CharField()


def test_a_list_output_said_with_many_true_passes():
    class Listed(NoteResource):
        @api.action(detail=False, scope="notes:read", output=NoteTitleSerializer, many=True)
        def recent(self, request):
            """The latest notes."""

    assert check(Listed, Note) == []


@pytest.mark.parametrize("output", [NoteTitleSerializer(), NoteTitleSerializer(many=True)])
def test_an_action_output_given_as_a_serializer_instance_is_e020(output):
    class Listed(NoteResource):
        @api.action(detail=False, scope="notes:read", output=output)
        def recent(self, request):
            """The latest notes."""

    errors = check(Listed, Note)

    assert ids(errors) == ["api.E020"]
    assert "output=NoteTitleSerializer, many=True" in errors[0].hint


def test_every_resource_check_says_how_to_mend_it():
    class Wrong(TaskResource):
        fields = ["id", "titel", "tenant"]
        read_only = ["id", "created"]
        search = ["nothing"]
        ordering = ["user__email"]
        filters = {"due": "due_date__bogus"}
        owner_field = "title"
        operations = ("list", "upsert")
        scope = "Tasks"
        throttle = "often"

        @api.action(detail=True, methods=["post"])
        def archive(self, request, task):
            return task

        @api.action(detail=False, scope="tasks:read", output=NoteTitleSerializer(many=True))
        def recent(self, request):
            """The latest tasks."""

    errors = check(Wrong)

    assert set(ids(errors)) >= {"api.E001", "api.E002", "api.E003", "api.E004", "api.E005", "api.E006", "api.E007",
                                "api.E008", "api.E009", "api.E010", "api.E014", "api.E017", "api.E020"}
    assert [error.id for error in errors if not error.hint] == []


# --- site-wide checks ------------------------------------------------------------------------


def site_with_tasks_and_notes():
    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NoteResource)
    return site


def test_a_clean_site_passes_every_check():
    assert check_resources(site=site_with_tasks_and_notes()) == []


def test_a_settings_entry_for_an_unregistered_resource_is_e011(settings):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"taks": {"page_size": 10}}}

    errors = check_resources(site=site_with_tasks_and_notes())

    assert ids(errors) == ["api.E011"]
    assert "'taks'" in errors[0].msg


def test_an_unknown_option_in_a_settings_entry_is_e012(settings):
    settings.TESSERA_API = {**settings.TESSERA_API, "RESOURCES": {"tasks": {"page_sise": 10}}}

    errors = check_resources(site=site_with_tasks_and_notes())

    assert ids(errors) == ["api.E012"]
    assert "page_sise" in errors[0].msg


def test_the_api_app_listed_before_the_admin_is_e015(settings):
    apps = [app for app in settings.INSTALLED_APPS if app != "apps.api"]
    settings.INSTALLED_APPS = ["apps.api", *apps]

    assert ids(check_resources(site=site_with_tasks_and_notes())) == ["api.E015"]


def test_two_resources_with_the_same_name_are_e016():
    class NotesCalledTasks(NoteResource):
        name = "tasks"

    site = fresh_site()
    site.register(Task, TaskResource)
    site.register(Note, NotesCalledTasks)

    assert ids(check_resources(site=site)) == ["api.E016"]


def test_the_projects_registered_resources_pass_every_check():
    assert check_resources() == []


def test_manage_py_check_is_clean_for_the_project():
    call_command("check", fail_level="WARNING")


def test_a_resource_may_hold_several_rates_and_each_is_checked():
    class TwoRates(TaskResource):
        throttle = ("60/m", "often")

    assert [(error.id, "throttle[1]" in error.msg) for error in check(TwoRates)] == [("api.E017", True)]
