"""drf-spectacular glue: tags and texts from declarations, the tenant header, and documented error envelopes."""
import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance, get_doc
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from apps.platform.error_envelope import ErrorEnvelope

from . import conditional, events, field_access, soft_delete, sparse

OPERATION_TEXT = {
    "list": "Returns one page of the rows you can see, narrowed by the filter, search and ordering parameters.",
    "create": "Creates a row. Tenant and owner are set by the server, never by the body.",
    "retrieve": "Returns one row. Rows outside your tenant or not yours are 404.",
    "update": "Replaces the writable fields of one row.",
    "partial_update": "Changes some writable fields of one row.",
    "destroy": "Deletes one row (204).",
    "bulk": ("Creates, changes (as PATCH) and deletes many rows in one request, each as its single write would: same "
             "validation, scopes (a delete needs the delete scope) and rate limits, each operation counted. Atomic "
             "(default): 200, or 400 with nothing written and `details` naming each failure as `operations.<index>`. "
             "Non-atomic: 207 with one `{index, status, data | error}` per operation."),
}


TENANT_HEADER = OpenApiParameter(
    "X-Tenant-ID", str, OpenApiParameter.HEADER, required=False,
    description="Active tenant, by id or slug. Defaults to your first tenant. A tenant you are not a member of is 403.",
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Makes a retry safe (1 to 255 characters, e.g. a UUID). The first request with a key runs; a retry "
                "with the same key and the same body, within 24 hours, gets the first response again (marked "
                "`Idempotent-Replayed: true`) and runs nothing. The same key with another body is 422; while the "
                "first request still runs, 409. Keys belong to you (user or API key) in the active tenant.",
)


class ResourceAutoSchema(AutoSchema):
    """Adds what every Tessera operation shares to drf-spectacular's defaults."""

    def get_tags(self) -> list[str]:
        surface = getattr(self.view, "surface", None)
        if surface is not None:
            return [surface.tag]
        resource = getattr(self.view, "resource", None)
        if resource is not None:
            return [resource.name]
        return [getattr(self.view, "schema_tag", None) or super().get_tags()[0]]

    def get_description(self) -> str:
        resource = getattr(self.view, "resource", None)
        action = getattr(self.view, "action", None)
        if resource is None or action in resource.actions:
            return super().get_description()
        text = OPERATION_TEXT.get(action, "")
        if action == "destroy" and resource.soft_delete:
            text = soft_delete.DESTROY_TEXT
        text = f"{(type(resource).__doc__ or '').strip()}\n\n{text}".strip()
        announced = events.declared_events(resource)
        if announced and action == "list":
            types = ", ".join(f"`{events.event_type(resource, name)}`" for name in sorted(announced))
            text += (f"\n\nChange events: {types}, as `{{id, type, tenant, occurred_at, data}}` with `data` the row "
                     "as this endpoint renders it; live on the `/ws/events/` WebSocket, and to webhooks.")
        return text

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """The operation, with the resource's rules per tenant role in its text and in `x-field-permissions`
        (role -> hidden and read-only fields) and `x-row-filters` (the roles that see fewer rows)."""
        operation = super().get_operation(*args, **kwargs)
        surface = getattr(self.view, "surface", None)
        if operation is not None and surface is not None:
            # The same view is documented at its own path too: the surface's copy needs an id of its own.
            operation["operationId"] = f"{surface.name.lower()}_{operation['operationId']}"
        resource = getattr(self.view, "resource", None)
        if operation is None or resource is None or not (resource.field_permissions or resource.row_filters):
            return operation
        operation["description"] = f"{operation.get('description', '')}\n\n{field_access.describe(resource)}".strip()
        if resource.field_permissions:
            operation["x-field-permissions"] = field_access.declared_rules(resource)
        if resource.row_filters:
            operation["x-row-filters"] = sorted(resource.row_filters)
        return operation

    def get_operation_id(self) -> str:
        # A view also served at the root (the guide's /auth/ paths, apps/accounts/urls.py) would get the id of its
        # twin under SCHEMA_PATH_PREFIX; `root_` keeps the two apart. A surface's copy is named by the surface.
        operation_id = super().get_operation_id()
        if re.match(spectacular_settings.SCHEMA_PATH_PREFIX, self.path) or getattr(self.view, "surface", None):
            return operation_id
        return f"root_{operation_id}"


    def get_paginated_name(self, serializer_name: str) -> str:
        surface = getattr(self.view, "surface", None)
        name = super().get_paginated_name(serializer_name)
        return f"{surface.name}{name}" if surface is not None else name

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        paginator = self._get_paginator()
        if status_code.startswith("2") and self._is_list_view() and paginator is not None:
            headers.update(getattr(paginator, "response_headers", {}))
        return headers

    def get_override_parameters(self) -> list[OpenApiParameter | Any]:
        parameters = list(super().get_override_parameters())
        if self._requires_authentication():
            parameters.append(TENANT_HEADER)
        resource = getattr(self.view, "resource", None)
        if resource is not None:
            parameters += conditional.openapi_parameters(self.view) + soft_delete.openapi_parameters(self.view)
            if getattr(self.view, "action", None) in sparse.SPARSE_ACTIONS:
                parameters.append(self._fields_parameter(resource))
        if self._takes_idempotency_key():
            parameters.append(IDEMPOTENCY_HEADER)
        return parameters

    def _takes_idempotency_key(self) -> bool:
        resource = getattr(self.view, "resource", None)
        return self.method == "POST" and resource is not None and resource.idempotent

    def _fields_parameter(self, resource) -> OpenApiParameter:
        readable = sparse.readable_fields(self.view.get_serializer_class(), field_access.NOTHING)
        return OpenApiParameter(
            sparse.PARAMETER, str, OpenApiParameter.QUERY, required=False,
            description=f"Comma-separated fields to return, e.g. `{','.join(readable[:2])}`; the primary key always "
                        f"comes too, and only those columns are read. Allowed: {', '.join(readable)}. A field that "
                        "is unknown or hidden from your role is a 400 naming it.")

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and self._is_resource_serializer(serializer):
            # `?fields=` and the fields a role may not read leave any field out of a row but its primary key.
            primary_key = type(force_instance(serializer)).Meta.model._meta.pk.name
            required = [name for name in schema.get("required", ()) if name == primary_key]
            schema.pop("required", None)
            if required:
                schema["required"] = required
        return schema

    def _is_resource_serializer(self, serializer) -> bool:
        """Whether `serializer` is the one a registered resource renders its rows with (a component, shared by
        every operation that returns such rows)."""
        from .sites import site as default_site

        serializer_class = type(force_instance(serializer))
        model = getattr(getattr(serializer_class, "Meta", None), "model", None)
        site = getattr(getattr(self.view, "resource", None), "site", None) or default_site
        return model is not None and site.is_registered(model) and site.get_serializer(model) is serializer_class

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        surface = getattr(self.view, "surface", None)
        if surface is not None:
            for status_code in list(responses):
                reshaped = surface.answer_schema(self.view, status_code)
                if reshaped is not None:
                    responses[status_code] = self._get_response_for_code(reshaped, status_code, direction=direction)
        envelope_class = surface.error_envelope if surface is not None else ErrorEnvelope
        for status_code in self._error_statuses():
            responses.setdefault(str(status_code), self._get_response_for_code(envelope_class, str(status_code),
                                                                              direction=direction))
        for status_code, details in self._declared_errors():
            responses[str(status_code)] = self._error_response(envelope_class, details, str(status_code), direction)
        if getattr(self.view, "resource", None) is not None:
            for status_code, without_body in conditional.openapi_statuses(self.view).items():
                responses[str(status_code)] = (
                    {**self._get_response_for_code(None, str(status_code), direction=direction),
                     "description": without_body} if without_body
                    else self._get_response_for_code(ErrorEnvelope, str(status_code), direction=direction))
        return responses

    def _declared_errors(self) -> tuple[tuple[int, type], ...]:
        """The refusals a declared action names (`@api.action(errors=...)`)."""
        resource = getattr(self.view, "resource", None)
        spec = resource.actions.get(getattr(self.view, "action", None)) if resource is not None else None
        return spec.errors if spec is not None else ()

    def _error_response(self, envelope_class, details, status_code: str, direction: str) -> dict[str, Any]:
        """The envelope of `status_code`, its `details` typed by `details` and described by its docstring."""
        response = self._get_response_for_code(envelope_class, status_code, direction=direction)
        typed = {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "details": self.resolve_serializer(details, direction).ref}}}}
        for media in response["content"].values():
            media["schema"] = {"allOf": [media["schema"], typed]}
        return {**response, "description": get_doc(details)}

    def get_filter_backends(self) -> list[Any]:


        # A declared action renders what its service returns (factories.build_action): no filter, search or
        # ordering applies to it, so none is documented even when its output is a list.
        return [] if self._is_declared_action() else super().get_filter_backends()

    def _get_paginator(self):
        # Likewise, a declared action's list is never paginated: documenting it as a page would be a lie.
        return None if self._is_declared_action() else super()._get_paginator()

    def _is_declared_action(self) -> bool:
        resource = getattr(self.view, "resource", None)
        return resource is not None and getattr(self.view, "action", None) in resource.actions

    def _requires_authentication(self) -> bool:
        return not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _authenticates(self) -> bool:
        # DRF authenticates every request to a view that has authenticators, even one open to anyone, so a
        # bad token or API key is a 401 there too (and the auth flows answer bad credentials with a 401).
        return bool(getattr(self.view, "authentication_classes", None))

    def _error_statuses(self) -> list[int]:
        """The error statuses an operation can answer with, from what the view and DRF do on their own."""
        has_body = self.method in ("POST", "PUT", "PATCH")
        statuses = [400] if has_body or self.method == "GET" else []
        if self._authenticates():
            statuses.append(401)
        if self._requires_authentication():
            statuses.append(403)
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            statuses.append(404)  # a row outside your tenant, or a page past the end
        statuses.append(406)  # an Accept header no renderer satisfies
        if has_body or self._is_declared_action():
            # Services raise conflicts, and a unique value already taken is one (exception_handler).
            statuses.append(409)
        if has_body:
            statuses += [413, 415]
        if self._takes_idempotency_key():
            statuses.append(422)  # an Idempotency-Key used before with another body
        statuses.append(429)
        return statuses
