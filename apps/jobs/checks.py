"""System checks (`jobs.E0xx`) that reject a bad job-type declaration at start-up, naming the type and the argument.

A job type is declared once, in an app's jobs.py, and then trusted by the runner, POST /jobs/, GET /jobs/types
and the OpenAPI document; whatever it gets wrong should fail `manage.py check` (and CI), not the first job.
"""
from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

from django.core.checks import Error
from rest_framework import serializers

from apps.api.checks import SCOPE_PATTERN

from .params_schema import params_json_schema

if TYPE_CHECKING:
    from .registry import JobRegistry, JobType

#: "<app>.<verb>", as in "tasks.export": the app that contributes it, then what it does.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def check_job_types(app_configs: Any = None, registry: JobRegistry | None = None, **kwargs: Any) -> list[Error]:
    """Every check over every declared job type, duplicates included."""
    from .registry import registry as default_registry

    registry = registry or default_registry
    errors = [_error(job_type, "name", "is already used by another job type; the first one declared stands.",
                     "E002", hint="Give each job type its own name.") for job_type in registry.duplicates]
    for job_type in registry.all():
        errors += check_job_type(job_type)
    return errors


def check_job_type(job_type: JobType) -> list[Error]:
    errors = []
    if not NAME_PATTERN.match(str(job_type.name)):
        errors.append(_error(job_type, "name", "must look like 'app.verb' (lower-case letters, digits, underscores).",
                             "E001", hint="Name it after the app that contributes it: 'tasks.export'."))
    errors += _check_params(job_type)
    errors += _check_function(job_type)
    for argument in ("timeout", "max_attempts"):
        value = getattr(job_type, argument)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(_error(job_type, argument, f"is {value!r}; it must be a whole number of at least 1.",
                                 "E006", hint="timeout is in seconds; max_attempts counts the first run too."))
    errors += _check_scope(job_type)
    errors += _check_on_end(job_type)
    return errors


def _check_params(job_type: JobType) -> list[Error]:
    params = job_type.params
    if not (isinstance(params, type) and issubclass(params, serializers.Serializer)):
        return [_error(job_type, "params", f"is {params!r}, not a Serializer class.", "E003",
                       hint="Pass the class that validates the params (serializers.Serializer for none).")]
    try:
        params_json_schema(params)
    except Exception as error:  # whatever drf-spectacular trips on, it is this declaration's fault
        return [_error(job_type, "params", f"has no JSON schema: {type(error).__name__}: {error}", "E004",
                       hint="GET /jobs/types and the OpenAPI document publish it; use fields drf-spectacular maps.")]
    return []


def _check_function(job_type: JobType) -> list[Error]:
    hint = "Decorate a function of (params, progress)."
    if not callable(job_type.function):
        return [_error(job_type, "function", f"{job_type.function!r} is not callable.", "E005", hint=hint)]
    try:
        inspect.signature(job_type.function).bind(None, None)
    except TypeError:
        return [_error(job_type, "function", "must take two arguments, (params, progress).", "E005", hint=hint)]
    except ValueError:  # a builtin without a signature: nothing to tell
        pass
    return []


def _check_on_end(job_type: JobType) -> list[Error]:
    """on_end is called with the ended job, in the transaction that ends it: a wrong one would fail every end."""
    on_end = job_type.on_end
    if on_end is None:
        return []
    hint = "Pass a function of (job), usually a service of the app that owns what the job does."
    if not callable(on_end):
        return [_error(job_type, "on_end", f"{on_end!r} is not callable.", "E011", hint=hint)]
    try:
        inspect.signature(on_end).bind(None)
    except TypeError:
        return [_error(job_type, "on_end", "must take one argument, the job that ended.", "E011", hint=hint)]
    except ValueError:
        pass
    return []


def _check_scope(job_type: JobType) -> list[Error]:
    """A public type is started through POST /jobs/: it needs a scope to ask for, and a docstring for callers."""
    if not job_type.public:
        return []
    errors = []
    if not job_type.scope:
        errors.append(_error(job_type, "scope", "is missing on a public job type, so anyone who may POST /jobs/ "
                             "could start it.", "E007", hint="Declare scope='things:write', or public=False."))
    elif not SCOPE_PATTERN.match(job_type.scope):
        errors.append(_error(job_type, "scope", f"{job_type.scope!r} must look like 'things:write'.", "E008",
                             hint="A resource scope followed by :read, :write or :delete."))
    if not job_type.description:
        errors.append(_error(job_type, "function", "has no docstring; GET /jobs/types shows it to callers.", "E009",
                             hint="Say what the job does and what its result holds."))
    return errors


def _error(job_type: JobType, argument: str, message: str, code: str, *, hint: str) -> Error:
    return Error(f"Job type {job_type.name!r}: {argument} {message}", hint=hint, obj=job_type.name, id=f"jobs.{code}")
