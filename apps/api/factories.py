"""Pure `build_*` functions that turn a Resource declaration into real, named DRF, django-filter and admin classes."""
import copy
import inspect
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Field, ForeignObjectRel, Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpResponseBase
from django_filters import Filter, FilterSet
from django_filters.exceptions import FieldLookupError
from django_filters.utils import resolve_field as resolve_lookup
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action as drf_action
from rest_framework.response import Response

from . import events, field_access, soft_delete
from .actions import ActionSpec
from .bulk import build_bulk_action
from .filtering import ResourceFilterSet
from .rendering import RowRenderer
from .resources import Admin, Resource
from .serializers import ResourceSerializer, refuse_null_characters
from .viewsets import OPERATION_MIXINS, ResourceViewSet


def model_name(resource: Resource) -> str:
    return resource.model.__name__


def build_serializer(resource: Resource) -> type[serializers.ModelSerializer]:
    """`<Model>Serializer` over exactly the declared fields; tenant and owner are never among the writable ones."""
    if resource.serializer_class is not None:
        return resource.serializer_class
    meta = type("Meta", (), {"model": resource.model, "fields": list(resource.fields),
                             "read_only_fields": list(resource.read_only)})
    return type(f"{model_name(resource)}Serializer", (ResourceSerializer,),
                {"Meta": meta, "__module__": type(resource).__module__, "__doc__": type(resource).__doc__})


def split_lookup(model: type[Model], lookup: str) -> tuple[str, str]:
    """Split `due_date__lte` into the field path `due_date` and the lookup `lte`.

    The lookup part is validated too (`due_date__bogus` is a LookupError), so check api.E005 reports
    it at start-up instead of django-filter raising on the first request that builds the filterset.
    """
    parts = lookup.split(LOOKUP_SEP)
    for cut in range(len(parts), 0, -1):
        path = LOOKUP_SEP.join(parts[:cut])
        field = resolve_field(model, path)
        if field is not None:
            lookup_expr = LOOKUP_SEP.join(parts[cut:]) or "exact"
            try:
                resolve_lookup(field, lookup_expr)
            except FieldLookupError:
                raise LookupError(f"{model.__name__}.{path} does not support the lookup {lookup_expr!r}.") from None
            return path, lookup_expr
    raise LookupError(f"{model.__name__} has no field for lookup {lookup!r}.")


def resolve_field(model: type[Model], path: str) -> Field | ForeignObjectRel | None:
    """The model field at `path` (following relations), or None."""
    field = None
    for name in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(name)
        except Exception:
            return None
        model = field.related_model if field.is_relation else None
        if model is None and name != path.split(LOOKUP_SEP)[-1]:
            return None
    return field


def build_filterset(resource: Resource) -> type[FilterSet]:
    """`<Model>FilterSet` with one filter per declared parameter; choice fields validate their values (400)."""
    declared = {}
    for parameter, lookup in resource.filters.items():
        if isinstance(lookup, Filter):  # a ready filter, such as JSONListFilter
            declared[parameter] = copy.deepcopy(lookup)
            continue
        path, lookup_expr = split_lookup(resource.model, lookup)
        declared[parameter] = ResourceFilterSet.filter_for_field(resolve_field(resource.model, path), path,
                                                                 lookup_expr)
    meta = type("Meta", (), {"model": resource.model, "fields": []})
    return type(f"{model_name(resource)}FilterSet", (ResourceFilterSet,), {**declared, "Meta": meta})


def build_action(resource: Resource, name: str, spec: ActionSpec,
                 serializer_class: type[serializers.ModelSerializer]) -> Callable[..., HttpResponseBase]:
    """The DRF handler for a declared verb: scoped object, validated input, one call, rendered output."""
    method = getattr(resource, name)
    wants = set(inspect.signature(method).parameters)
    input_class = spec.input
    output_class = _output_for(resource, spec.output, serializer_class)

    def handler(self, request, **kwargs):
        arguments = {}
        kwargs.pop(self.lookup_url_kwarg, None)
        if spec.detail:
            arguments[_object_parameter(method)] = self.get_object()
        elif "queryset" in wants:  # a list action over the rows the caller can see, narrowed by the list filters
            arguments["queryset"] = self.filter_queryset(self.get_queryset())
        if input_class is not None:
            source = request.query_params if request.method == "GET" else request.data
            serializer = input_class(data=source, context=self.get_serializer_context())
            self.confine_relations(serializer)
            serializer.is_valid(raise_exception=True)
            refuse_null_characters(serializer.validated_data)
            arguments["data"] = serializer.validated_data
        arguments.update({key: value for key, value in kwargs.items() if key in wants})
        with events.atomic_if_announced(resource, name):
            result = method(request, **arguments)
            if spec.detail:  # the row as the service left it, else as it was fetched
                row = result if isinstance(result, resource.model) else arguments[_object_parameter(method)]
                events.announce(resource, name, row)
        if result is None:
            return Response(status=spec.status)
        if isinstance(result, HttpResponseBase):  # a ready response, such as a file download
            return result
        rendered = output_class(result, many=spec.many, context=self.get_serializer_context())
        field_access.hide_fields(rendered, field_access.hidden_in_output(resource, output_class, request))
        return Response(rendered.data, status=spec.status)

    handler.__name__ = name
    handler.__doc__ = method.__doc__
    return handler


def _output_for(resource, output, serializer_class):
    """What renders an action's result: its `output`, where a registered model stands for that model's generated
    serializer (this resource's own one is being built right now, so it is passed in), else the resource's."""
    if isinstance(output, type) and issubclass(output, Model):
        return serializer_class if output is resource.model else resource.site.get_serializer(output)
    return output or serializer_class


def action_schema(resource: Resource, name: str, spec: ActionSpec, output: object) -> Callable[[Any], Any]:
    """drf-spectacular's view of a declared verb: its docstring, input and output."""
    has_body = spec.methods != ("get",) and spec.input is not None
    if spec.many:
        output = output(many=True)
    return extend_schema(
        description=getattr(resource, name).__doc__, operation_id=f"{resource.basename}_{name}".replace("-", "_"),
        request=spec.input if has_body else None,
        parameters=[spec.input] if spec.input is not None and not has_body else None,
        responses={spec.status: output if spec.status != 204 else None},
    )


def _object_parameter(method) -> str:
    """The name the action method gives its object (its first parameter after `request`)."""
    return list(inspect.signature(method).parameters)[1]


def build_row_renderer(resource: Resource, serializer_class: type[serializers.ModelSerializer]) -> RowRenderer | None:
    """What renders the resource's list and detail without its serializer, or None where the serializer stays: a
    resource that opts out, a hand-written serializer, or a field whose output rows cannot reproduce exactly."""
    if not resource.fast_render or resource.serializer_class is not None:
        return None
    return RowRenderer.for_serializer(serializer_class)


def build_viewset(resource: Resource, serializer_class: type[serializers.ModelSerializer],
                  filterset_class: type[FilterSet]) -> type[ResourceViewSet]:
    """`<Model>ViewSet`: ResourceViewSet plus the mixins of the declared operations and the declared actions."""
    bases = (ResourceViewSet, *[OPERATION_MIXINS[op] for op in resource.operations])
    attrs = {
        "resource": resource,
        "serializer_class": serializer_class,
        "row_renderer": build_row_renderer(resource, serializer_class),
        "filterset_class": filterset_class,
        "search_fields": list(resource.search),
        "ordering_fields": list(resource.ordering),
        "ordering": list(resource.default_ordering),
        "lookup_value_regex": resource.lookup_value_regex,
        "lookup_url_kwarg": resource.lookup_url_kwarg,
        "queryset": resource.model._default_manager.none(),  # tells schema generation the model; never queried
        "__doc__": type(resource).__doc__,
        "__module__": type(resource).__module__,
    }
    attrs.update(_declared_actions(resource, serializer_class))
    if resource.soft_delete:
        attrs.update(soft_delete.build_actions(resource, serializer_class))
    if resource.bulk:
        attrs.update(build_bulk_action(resource, serializer_class))
    return type(f"{model_name(resource)}ViewSet", bases, attrs)


def _declared_actions(resource, serializer_class) -> dict:
    """DRF actions for the declared verbs; verbs sharing a URL become one route with a method mapping."""
    built, primary_by_route = {}, {}
    for name, spec in resource.actions.items():
        handler = build_action(resource, name, spec, serializer_class)
        route = (spec.detail, spec.url_path or name)
        primary = primary_by_route.get(route)
        if primary is None:
            # DRF's @action replaces the function's kwargs, so the schema decorator must go on after it.
            handler = drf_action(detail=spec.detail, methods=list(spec.methods), url_path=route[1])(handler)
            primary_by_route[route] = handler
        else:
            for http_method in spec.methods:
                primary.mapping[http_method] = name
        output = _output_for(resource, spec.output, serializer_class)
        built[name] = action_schema(resource, name, spec, output)(handler)
    return built


def build_admin(resource: Resource) -> type[admin.ModelAdmin]:
    """`<Model>Admin` for the operator console: list columns, search and filters derived from the declaration."""
    options = resource.admin if isinstance(resource.admin, Admin) else Admin()
    local = {f.name for f in resource.model._meta.get_fields() if not f.many_to_many and not f.one_to_many}
    shown = [name for name in resource.fields if name in local]
    filters = [lookup for lookup in resource.filters.values() if isinstance(lookup, str) and LOOKUP_SEP not in lookup]
    attrs = {
        "list_display": list(options.list_display or shown[:8]),
        "list_filter": list(options.list_filter or filters),
        "search_fields": list(options.search_fields or resource.search),
        "readonly_fields": list(options.readonly_fields or [n for n in resource.read_only if n in local and n != "id"]),
        "list_select_related": list(resource.select_related) or False,
    }
    if resource.soft_delete:  # every row shows, with a filter on the mark and restore / mark / purge actions
        extra = soft_delete.admin_options(resource)
        if resource.soft_delete not in attrs["list_display"]:
            attrs["list_display"].append(resource.soft_delete)
        attrs["list_filter"] = [*extra.pop("list_filter"), *attrs["list_filter"]]
        attrs.update(extra)
    attrs.update(options.extra)
    if resource.field_permissions or resource.row_filters:
        attrs.update(api_field_permissions=resource.field_permissions, api_row_filters=resource.row_filters)
        return type(f"{model_name(resource)}Admin", (field_access.FieldPermissionsAdmin,), attrs)
    return type(f"{model_name(resource)}Admin", (admin.ModelAdmin,), attrs)
