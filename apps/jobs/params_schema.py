"""JSON schemas of job params, from their serializers, for GET /jobs/types and the OpenAPI document."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator


def params_json_schema(serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The JSON schema drf-spectacular would publish for `serializer_class` as a request body, inlined."""
    schema = AutoSchema()
    schema.registry = ComponentRegistry()
    view = APIView()
    view.request = None
    schema.method, schema.path, schema.view = "POST", "", view
    return _without_internal_keys(schema._map_basic_serializer(serializer_class(), "request"))


def _without_internal_keys(node):
    """Drop drf-spectacular's bookkeeping (`x-spec-enum-id`), which its own enum hook removes from components."""
    if isinstance(node, dict):
        return {key: _without_internal_keys(value) for key, value in node.items() if key != "x-spec-enum-id"}
    if isinstance(node, list):
        return [_without_internal_keys(item) for item in node]
    return node


def add_job_params_components(result: dict[str, Any], generator: SchemaGenerator, request: Request | None,
                              public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every public job type's params appear as a named component."""
    from .registry import registry

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for job_type in registry.public_types():
        name = "".join(part.capitalize() for part in job_type.name.replace("_", ".").split(".")) + "Params"
        schemas[name] = {**params_json_schema(job_type.params), "description": f"params of the {job_type.name} job."}
    return result
