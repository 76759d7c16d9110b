"""System checks jobs.E0xx: a bad job-type declaration fails `manage.py check`, naming the type and the argument."""
import pytest
from django.core.management import call_command
from rest_framework import serializers

from apps.jobs.checks import check_job_types
from apps.jobs.registry import JobRegistry


class Params(serializers.Serializer):
    count = serializers.IntegerField(default=1)


def run_things(params, progress):
    """Does the things."""


def declared(name="things.run", **options) -> JobRegistry:
    """A fresh registry holding one declaration, made with `options` over a valid one."""
    registry = JobRegistry()
    options = {"params": Params, "scope": "things:write", **options}
    function = options.pop("function", run_things)
    registry.register(name, **options)(function)
    return registry


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_shipped_job_types_pass_every_check():
    assert check_job_types() == []


def test_a_valid_declaration_passes():
    assert check_job_types(registry=declared()) == []


def test_every_error_names_the_job_type_and_says_how_to_mend_it():
    [error] = check_job_types(registry=declared(timeout=0))

    assert error.msg.startswith("Job type 'things.run': timeout is 0")
    assert error.obj == "things.run"
    assert error.hint


@pytest.mark.parametrize("name", ["Things.Run", "things", "things.run.now", "things-run", ""])
def test_a_name_that_is_not_app_dot_verb_is_e001(name):
    assert ids(check_job_types(registry=declared(name))) == ["jobs.E001"]


def test_a_second_declaration_of_a_name_is_e002_and_the_first_one_stands():
    registry = declared()

    def run_other_things(params, progress):
        """Does other things."""

    registry.register("things.run", params=Params, scope="things:write")(run_other_things)

    assert ids(check_job_types(registry=registry)) == ["jobs.E002"]
    assert registry.get("things.run").function is run_things


@pytest.mark.parametrize("params", [None, Params(), dict, serializers.IntegerField])
def test_params_that_are_not_a_serializer_class_are_e003(params):
    assert ids(check_job_types(registry=declared(params=params))) == ["jobs.E003"]


def test_params_without_a_json_schema_are_e004():
    class Unmappable(serializers.Serializer):
        count = serializers.IntegerField()

        def get_fields(self):
            raise RuntimeError("cannot list my fields")

    errors = check_job_types(registry=declared(params=Unmappable))

    assert ids(errors) == ["jobs.E004"]
    assert "cannot list my fields" in errors[0].msg


def test_a_function_that_cannot_take_params_and_progress_is_e005():
    def run_without_progress(params):
        """Forgets the progress argument."""

    assert ids(check_job_types(registry=declared(function=run_without_progress))) == ["jobs.E005"]


def test_something_not_callable_is_e005():
    assert ids(check_job_types(registry=declared(function="run_things"))) == ["jobs.E005"]


@pytest.mark.parametrize("argument, value", [("timeout", 0), ("timeout", -5), ("timeout", 1.5), ("timeout", True),
                                             ("max_attempts", 0), ("max_attempts", "3")])
def test_a_timeout_or_attempt_count_below_one_or_not_whole_is_e006(argument, value):
    assert ids(check_job_types(registry=declared(**{argument: value}))) == ["jobs.E006"]


def test_a_public_job_type_without_a_scope_is_e007_but_a_private_one_needs_none():
    assert ids(check_job_types(registry=declared(scope=None))) == ["jobs.E007"]
    assert check_job_types(registry=declared(scope=None, public=False)) == []


@pytest.mark.parametrize("scope", ["things", "Things:write", "things:run"])
def test_a_malformed_scope_is_e008(scope):
    assert ids(check_job_types(registry=declared(scope=scope))) == ["jobs.E008"]


def test_a_public_job_type_without_a_docstring_is_e009():
    def run_silently(params, progress):
        pass

    assert ids(check_job_types(registry=declared(function=run_silently))) == ["jobs.E009"]


def record_end(job):
    """Told how a job ended."""


@pytest.mark.parametrize("on_end", ["record_end", lambda: None, lambda job, extra: None])
def test_an_on_end_that_is_not_a_function_of_the_job_is_e011(on_end):
    assert ids(check_job_types(registry=declared(on_end=on_end))) == ["jobs.E011"]


def test_an_on_end_of_the_job_passes():
    assert check_job_types(registry=declared(on_end=record_end)) == []


def test_manage_py_check_runs_the_job_type_checks(monkeypatch):
    from apps.jobs import registry as registry_module

    monkeypatch.setattr(registry_module, "registry", declared(timeout=0))

    with pytest.raises(Exception, match="jobs.E006"):
        call_command("check")
