"""System checks api.E060-E065: a resource announces only changes it can make, under well-formed names, and no
event stream takes a resource's name."""
import pytest

from apps import api
from apps.api.checks import check_resource
from apps.api.testing import fresh_site
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


def test_events_that_is_neither_true_nor_a_list_is_e060():
    class Shouted(TaskResource):
        events = "created"

    errors = check(Shouted)

    assert ids(errors) == ["api.E060"]
    assert errors[0].msg.startswith("Shouted.events is 'created'")


def test_an_unknown_event_is_e061_naming_it_and_the_choices():
    class Misspelled(TaskResource):
        events = ["created", "archived"]

    errors = check(Misspelled)

    assert ids(errors) == ["api.E061"]
    assert "'archived'" in errors[0].msg
    assert "created, updated, deleted" in errors[0].hint


def test_an_event_of_an_operation_the_resource_lacks_is_e061():
    class ReadAndCreate(TaskResource):
        operations = ("list", "create")
        bulk = ()
        soft_delete = None
        events = ["deleted"]

    assert ids(check(ReadAndCreate)) == ["api.E061"]


def test_a_malformed_event_name_is_e062():
    class Spaced(TaskResource):
        event_name = "My Tasks"

    assert ids(check(Spaced)) == ["api.E062"]


def test_an_event_of_an_action_on_no_single_row_is_e063():
    note_actions = {name: spec for name, spec in NoteResource.actions.items() if not spec.detail}
    list_action = next(iter(note_actions))

    class Announced(NoteResource):
        events = [list_action]

    assert ids(check(Announced, Note)) == ["api.E063"]


@pytest.mark.parametrize("names", [("created",), ("Started",)])
def test_a_lifecycle_event_that_repeats_a_write_or_is_malformed_is_e064(names):
    class Lifecycle(TaskResource):
        lifecycle_events = names

    assert ids(check(Lifecycle)) == ["api.E064"]


def test_detail_actions_and_lifecycle_events_can_be_announced():
    detail_action = next(name for name, spec in NoteResource.actions.items() if spec.detail)

    class Announced(NoteResource):
        events = ["created", detail_action, "archived"]
        lifecycle_events = ("archived",)

    assert check(Announced, Note) == []
    assert api.Resource.events is False  # nothing is announced unless declared


def test_an_event_stream_named_as_a_resource_is_e065(monkeypatch):
    """/ws/events/ finds streams by name before resources: one named "tasks" would hide the tasks' events."""
    from apps.api import events
    from apps.api.checks import check_resources

    stream = events.get_stream("tenants/members")
    monkeypatch.setattr(events, "_streams", {"tasks": events.EventStream(**{**stream.__dict__, "name": "tasks"})})
    site = fresh_site()
    site.register(Task, TaskResource)

    errors = [error for error in check_resources(site=site) if error.id == "api.E065"]

    assert [error.msg for error in errors] == ["The event stream 'tasks' has the name of TaskResource."]
