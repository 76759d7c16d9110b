"""System checks api.E030-E036: a bad field permission, row filter or sparse-fieldset clash fails at start-up."""
import pytest
from django.db.models import Q

from apps.api.checks import check_resource
from apps.api.testing import fresh_site
from apps.tasks.api import TaskResource
from apps.tasks.models import Task

pytestmark = pytest.mark.django_db


def check_ids(**attributes) -> list[str]:
    resource_class = type("Declared", (TaskResource,), attributes)
    site = fresh_site()
    site.register(Task, resource_class)
    return [error.id for error in check_resource(site.get_resource(Task))]


def test_a_sound_declaration_passes():
    assert check_ids(field_permissions={"viewer": {"hide": ["description"]}, "member": {"read_only": ["priority"]}},
                     row_filters={"viewer": Q(status="completed")}) == []


@pytest.mark.parametrize("field_permissions", [
    ["viewer"],
    {"viewer": ["description"]},
    {"viewer": {"conceal": ["description"]}},
    {"viewer": {"hide": "description"}},
])
def test_a_malformed_field_permissions_is_e030(field_permissions):
    assert check_ids(field_permissions=field_permissions) == ["api.E030"]


@pytest.mark.parametrize("attributes", [
    {"field_permissions": {"guest": {"hide": ["description"]}}},
    {"row_filters": {"superviewer": Q(status="completed")}},
])
def test_an_unknown_role_is_e031(attributes):
    assert check_ids(**attributes) == ["api.E031"]


@pytest.mark.parametrize("rule", ["hide", "read_only"])
def test_a_rule_naming_a_field_that_does_not_exist_is_e032(rule):
    assert check_ids(field_permissions={"viewer": {rule: ["descripton"]}}) == ["api.E032"]


def test_a_rule_naming_a_model_field_the_resource_does_not_declare_is_e032():
    assert check_ids(field_permissions={"viewer": {"hide": ["user"]}}) == ["api.E032"]


def test_hiding_the_primary_key_is_e033():
    assert check_ids(field_permissions={"viewer": {"hide": ["id"]}}) == ["api.E033"]


@pytest.mark.parametrize("row_filters", [{"viewer": {"status": "completed"}}, ["viewer"]])
def test_a_row_filter_that_is_not_a_q_is_e034(row_filters):
    assert check_ids(row_filters=row_filters) == ["api.E034"]


def test_a_row_filter_that_does_not_resolve_on_the_model_is_e035():
    assert check_ids(row_filters={"viewer": Q(state="completed")}) == ["api.E035"]


def test_a_filter_parameter_named_fields_is_e036():
    assert check_ids(filters={"fields": "status"}) == ["api.E036"]
