"""drf-spectacular glue: tags and texts from declarations, the tenant header, and documented error envelopes."""
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from apps.platform.error_envelope import ErrorEnvelope

OPERATION_TEXT = {
    "list": "Returns one page of the rows you can see, narrowed by the filter, search and ordering parameters.",
    "create": "Creates a row. Tenant and owner are set by the server, never by the body.",
    "retrieve": "Returns one row. Rows outside your tenant or not yours are 404.",
    "update": "Replaces the writable fields of one row.",
    "partial_update": "Changes some writable fields of one row.",
    "destroy": "Deletes one row (204).",
}


TENANT_HEADER = OpenApiParameter(
    "X-Tenant-ID", str, OpenApiParameter.HEADER, required=False,
    description="Active tenant, by id or slug. Defaults to your first tenant. A tenant you are not a member of is 403.",
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
        return f"{(type(resource).__doc__ or '').strip()}\n\n{OPERATION_TEXT.get(action, '')}".strip()

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        surface = getattr(self.view, "surface", None)
        if operation is not None and surface is not None:
            # The same view is documented at its own path too: the surface's copy needs an id of its own.
            operation["operationId"] = f"{surface.name.lower()}_{operation['operationId']}"
        return operation

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
        return parameters

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
        return responses

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
        statuses.append(429)
        return statuses
