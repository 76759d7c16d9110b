"""System checks (`api.E0xx`) that reject a bad declaration at start-up, naming the resource and the attribute."""
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error
from django.db.models import ForeignKey
from django_filters import Filter
from rest_framework import serializers

from . import conditional, events, field_access, soft_delete, sparse
from .bulk import OPERATIONS as BULK_OPERATIONS
from .conf import RESOURCE_OPTIONS, api_settings
from .factories import resolve_field, split_lookup
from .permissions import Access
from .rates import is_rate, rates_of
from .resources import ALL_OPERATIONS, Resource
from .viewsets import ApiView

if TYPE_CHECKING:
    from .sites import ResourceSite

SCOPE_PATTERN = re.compile(r"^[a-z_]+:(read|write|delete)$")


def check_resources(app_configs: Sequence[AppConfig] | None = None, site: "ResourceSite | None" = None,
                    **kwargs: Any) -> list[Error]:
    """Run every check over every registered resource, plus the settings the generator depends on."""
    from .sites import site as default_site

    site = site or default_site
    errors = _check_installed_apps() + _check_resource_settings(site) + _check_routes(site)
    names = {}
    for resource in site.resources():
        errors += check_resource(resource)
        if resource.name in names:
            errors.append(_error(resource, "name", f"is also used by {names[resource.name]!r}.", "E016",
                                 hint="Set `name` to a URL prefix no other resource uses."))
        names[resource.name] = resource
    for stream in events.streams():
        if stream.name in names:
            errors.append(Error(f"The event stream {stream.name!r} has the name of {type(names[stream.name]).__name__}.",
                                hint="/ws/events/ subscribes by name: give the stream a name no resource uses.",
                                obj=stream.name, id="api.E065"))
    return errors


def check_resource(resource: Resource) -> list[Error]:

    model = resource.model
    errors = []
    for attribute in ("fields", "read_only", "filters", "search", "ordering", "operations"):
        if getattr(resource, attribute) == "__all__":
            errors.append(_error(resource, attribute, 'is "__all__"; list the names explicitly.', "E013",
                                 hint="Allow-lists only: a field added to the model later must not appear by itself."))
            return errors
    not_a_field = f"Use a field of {model.__name__} (or a path through its relations, like 'tenant__name')."
    for name in resource.fields:
        # A read-only name may also be a model property (DRF renders it as a ReadOnlyField).
        is_property = name in resource.read_only and isinstance(getattr(model, name, None), property)
        if resolve_field(model, name) is None and not is_property:
            errors.append(_error(resource, "fields", f"names {name!r}, which is not a field of {model.__name__}.", "E001",
                                 hint=f"Use a field of {model.__name__}, or a property listed in read_only too."))
    for name in resource.read_only:
        if name not in resource.fields:
            errors.append(_error(resource, "read_only", f"names {name!r}, which is not in fields.", "E002",
                                 hint="Add it to fields, or drop it from read_only."))
    for name in resource.search:
        if resolve_field(model, name) is None:
            errors.append(_error(resource, "search", f"names {name!r}, which is not a field of {model.__name__}.", "E003",
                                 hint=not_a_field))
    for name in resource.ordering:
        if name != "pk" and (resolve_field(model, name) is None or "__" in name):
            errors.append(_error(resource, "ordering", f"names {name!r}, which is not a field of {model.__name__}.", "E004",
                                 hint=f"Use a field of {model.__name__} itself (no relation paths), or 'pk'."))
    for parameter, lookup in resource.filters.items():
        try:
            split_lookup(model, lookup.field_name if isinstance(lookup, Filter) else lookup)
        except LookupError as error:
            errors.append(_error(resource, "filters", f"maps {parameter!r} to {lookup!r}, which does not resolve.", "E005",
                                 hint=f"{error} Write a field path and a lookup it supports, like 'due_date__lte'."))
    errors += _check_stamped_fields(resource)
    unknown_operations = set(resource.operations) - set(ALL_OPERATIONS)
    if unknown_operations:
        errors.append(_error(resource, "operations", f"has unknown operations {sorted(unknown_operations)}.", "E014",
                             hint=f"Choose among: {', '.join(ALL_OPERATIONS)}."))
    errors += _check_scopes(resource)
    errors += _check_outputs(resource)
    errors += _check_rates(resource)
    errors += soft_delete.check(resource) + conditional.check(resource)
    errors += field_access.check_rules(resource)
    if sparse.PARAMETER in resource.filters:
        errors.append(_error(resource, "filters", f"declares a {sparse.PARAMETER!r} parameter, which sparse fieldsets "
                                                  "use.", "E036", hint="Name the filter parameter otherwise."))
    errors += _check_events(resource)
    errors += _check_bulk(resource)
    return errors


EVENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")


def _check_events(resource) -> list[Error]:
    """api.E060-E064: change events name only changes the resource can announce (apps/api/events.py)."""
    if resource.events is False and not resource.lifecycle_events:
        return []
    errors = []
    if resource.event_name is not None and not EVENT_NAME_PATTERN.match(str(resource.event_name)):
        errors.append(_error(resource, "event_name", f"{resource.event_name!r} is not a lower-case name.", "E062",
                             hint="Letters, digits, '-' and '_', starting with a letter, like 'job'."))
    taken = {*events.OPERATION_EVENTS.values(), *resource.actions}
    for name in resource.lifecycle_events:
        if not isinstance(name, str) or not EVENT_NAME_PATTERN.match(name) or name in taken:
            errors.append(_error(resource, "lifecycle_events", f"has {name!r}, which is not a new event name.",
                                 "E064", hint="A lower-case name that is neither created, updated, deleted nor an "
                                              "action's name (those are announced already)."))
    if resource.events is True or resource.events is False:
        return errors
    if isinstance(resource.events, str) or not isinstance(resource.events, (list, tuple)):
        errors.append(_error(resource, "events", f"is {resource.events!r}; use True or a list of event names.",
                             "E060", hint="events = True announces every change; a list picks some, like "
                                          "['created', 'deleted']."))
        return errors
    available = events.available_events(resource)
    for name in resource.events:
        spec = resource.actions.get(name)
        if spec is not None and not events.changes_a_row(spec):
            errors.append(_error(resource, "events", f"names {name!r}, an action that changes no single row.",
                                 "E063", hint="Only writes and detail actions that write (not GET) change a row "
                                              "an event could carry."))
        elif name not in available:
            errors.append(_error(resource, "events", f"names {name!r}, which is not an event of this resource.",
                                 "E061", hint=f"Choose among: {', '.join(available) or 'nothing (no writes)'}."))
    return errors


def _check_bulk(resource) -> list[Error]:
    """`bulk` takes only operations the resource has (a bulk create on a resource without create is an error)."""
    if not resource.bulk:
        return []
    if isinstance(resource.bulk, str):
        return [_error(resource, "bulk", f"is the string {resource.bulk!r}; list the operations.", "E040",
                       hint='Write bulk = ["create", "update", "delete"], or the ones the resource takes.')]
    errors = []
    for op in resource.bulk:
        if op not in BULK_OPERATIONS:
            errors.append(_error(resource, "bulk", f"names {op!r}, which is not a bulk operation.", "E041",
                                 hint=f"Choose among: {', '.join(BULK_OPERATIONS)}."))
        elif BULK_OPERATIONS[op] not in resource.operations:
            needed = BULK_OPERATIONS[op]
            errors.append(_error(resource, "bulk", f"names {op!r}, but the resource has no {needed!r} operation.",
                                 "E042", hint=f"Add {needed!r} to operations, or drop {op!r} from bulk."))
    if "bulk" in resource.actions:
        errors.append(_error(resource, "bulk", "is declared and an action is named 'bulk' too: both want /bulk.", "E043",
                             hint="Rename the action."))
    if resource.bulk_max_items is not None and not _is_positive_count(resource.bulk_max_items):
        errors.append(_error(resource, "bulk_max_items", f"is {resource.bulk_max_items!r}; it must be a positive "
                             "whole number.", "E044", hint="The most operations one bulk request may carry, such as 100."))
    return errors


def _is_positive_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_rates(resource) -> list[Error]:
    declared = resource.throttle
    if isinstance(declared, (list, tuple)):
        rates = {f"throttle[{index}]": rate for index, rate in enumerate(rates_of(declared))}
    else:
        rates = {"throttle": declared} if declared else {}
    rates.update({f"throttles[{action!r}]": rate for action, rate in (resource.throttles or {}).items()})
    return [_error(resource, attribute, f"{rate!r} is not a rate; write it like '100/m'.", "E017",
                   hint="A count, a slash and a period: s, m, h or d ('100/m', '5000/h').")
            for attribute, rate in rates.items() if not is_rate(rate)]


def _check_stamped_fields(resource) -> list[Error]:
    errors = []
    for attribute in ("tenant_field", "owner_field"):
        name = getattr(resource, attribute)
        if not name:
            continue
        field = resolve_field(resource.model, name)
        if not isinstance(field, ForeignKey):
            errors.append(_error(resource, attribute, f"{name!r} must be a ForeignKey of {resource.model.__name__}.", "E006",
                                 hint=f"Name the ForeignKey to the {attribute.split('_')[0]}, or set it to None."))
        elif name in resource.fields and name not in resource.read_only:
            errors.append(_error(resource, attribute, f"{name!r} is writable; stamped fields must be read-only.", "E007",
                                 hint=f"Add {name!r} to read_only: the server stamps it, a client never sets it."))
    return errors


def _check_scopes(resource) -> list[Error]:
    errors = []
    for verb in ("read", "write", "delete"):
        if not SCOPE_PATTERN.match(f"{resource.scope}:{verb}"):
            errors.append(_error(resource, "scope", f"{resource.scope!r} must be lower-case letters and underscores.", "E010",
                                 hint="Usually the resource's name: 'tasks' gives tasks:read, :write and :delete."))
            break
    for name, spec in resource.actions.items():
        if not spec.scope:
            errors.append(_error(resource, name, "is an action without a scope.", "E008",
                                 hint="Pass scope='things:read' (or :write, :delete) to @api.action."))
        elif not SCOPE_PATTERN.match(spec.scope):
            errors.append(_error(resource, name, f"scope {spec.scope!r} must look like 'things:read'.", "E010",
                                 hint="A resource scope followed by :read, :write or :delete."))
        if not (getattr(type(resource), name).__doc__ or "").strip():
            errors.append(_error(resource, name, "is an action without a docstring (it is the OpenAPI text).", "E009",
                                 hint="Say what it does for API users and which statuses come back."))
    return errors


def _check_outputs(resource) -> list[Error]:
    """An action says "a list" one way only, `many=True`; a serializer instance as its output is another way."""
    return [_error(resource, name, f"output is a serializer instance, {spec.output!r}.", "E020",
                   hint=f"Pass the class, and many=True for a list: output={_class_name(spec.output)}, many=True.")
            for name, spec in resource.actions.items() if isinstance(spec.output, serializers.BaseSerializer)]


def _class_name(serializer: serializers.BaseSerializer) -> str:
    return type(getattr(serializer, "child", serializer)).__name__


def _check_resource_settings(site) -> list[Error]:
    errors = []
    names = {resource.name for resource in site.resources()}
    for name, options in api_settings.RESOURCES.items():
        if name not in names:
            errors.append(Error(f'TESSERA_API["RESOURCES"] names {name!r}, which is not a registered resource.',
                                hint=f"Registered: {', '.join(sorted(names))}.", id="api.E011"))
            continue
        unknown = set(options) - RESOURCE_OPTIONS
        if unknown:
            errors.append(Error(f'TESSERA_API["RESOURCES"][{name!r}] has unknown keys {sorted(unknown)}.',
                                hint=f"Allowed: {', '.join(sorted(RESOURCE_OPTIONS))}.", id="api.E012"))
        if "bulk_max_items" in options and not _is_positive_count(options["bulk_max_items"]):
            errors.append(Error(f'TESSERA_API["RESOURCES"][{name!r}]["bulk_max_items"] must be a positive whole number.',
                                hint="The most operations one bulk request may carry, such as 100.", id="api.E044"))
        rates = [options.get("throttle"), *dict(options.get("throttles") or {}).values()]
        for rate in filter(None, rates):
            if not is_rate(rate):
                errors.append(Error(f'TESSERA_API["RESOURCES"][{name!r}] has {rate!r}, which is not a rate.',
                                    hint="Write rates like '100/m'.", id="api.E017"))
    return errors


def _check_routes(site) -> list[Error]:
    """Every hand-written view says who it is for, so one that forgets cannot be reached by every API key."""
    errors = []
    for path, view in site.routes():
        name = f"{view.__module__}.{view.__qualname__} (route {path!r})"
        if not (isinstance(view, type) and issubclass(view, ApiView)):
            errors.append(Error(f"{name} is not an ApiView, so no scope or API key rule applies to it.",
                                hint="Subclass apps.api.viewsets.ApiView and declare `scope` or `access`.",
                                obj=view, id="api.E018"))
            continue
        accesses = list(view.access.values()) if isinstance(view.access, Mapping) else [view.access]
        if view.scope is None and view.access is None:
            errors.append(Error(f"{name} declares neither a scope nor an access.", obj=view, id="api.E018",
                                hint="Set `scope = 'things:read'` (API keys must hold it too), or `access = "
                                     "api.Access.PERSONAL` (people only, API keys refused) or `api.Access.PUBLIC`."))
        elif view.scope is not None and view.access is not None:
            errors.append(Error(f"{name} declares both a scope and an access.", obj=view, id="api.E019",
                                hint="A scoped view is open to whoever holds the scope; drop one of the two."))
        elif view.scope is None and not all(isinstance(access, Access) for access in accesses):
            errors.append(Error(f"{name}.access must be an api.Access or a mapping of methods to them.",
                                hint=f"One of: {', '.join(member.name for member in Access)}.", obj=view,
                                id="api.E019"))
    return errors


def _check_installed_apps() -> list[Error]:
    apps = list(settings.INSTALLED_APPS)
    if "django.contrib.admin" in apps and apps.index("apps.api") < apps.index("django.contrib.admin"):
        return [Error("apps.api must come after django.contrib.admin in INSTALLED_APPS.",
                      hint="Otherwise generated admin pages replace explicit admin.py registrations.", id="api.E015")]
    return []


def _error(resource, attribute: str, message: str, code: str, *, hint: str) -> Error:
    return Error(f"{type(resource).__name__}.{attribute} {message}", hint=hint, obj=type(resource), id=f"api.{code}")
