"""Surfaces: the same generated viewsets and routes, served at other paths in another envelope.

A product documented elsewhere (the Migration Assistant user guide) promises its own paths, plain-array lists
and error codes. Rather than a second copy of views for it, a `Surface` names the resources and routes it serves
and changes only how their answers are wrapped: list pagination, the code and extra fields of the error
envelope, and the shape of some successful answers (a receipt instead of the object). Scoping, permissions,
validation and the service behind each endpoint stay the resource's own, so two surfaces cannot drift apart in
behaviour or in words.

`ResourceSite.add_surface()` registers one; `site.surface_urls(name)` gives its URL patterns (config/urls.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponseBase
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from apps.platform.error_envelope import ErrorEnvelope


class Surface:
    """A declaration, like a Resource: class attributes plus three hooks that reshape answers."""

    #: Short name: the prefix of the generated class names and OpenAPI operation ids (`guide_migrations_list`).
    name: str = ""
    #: OpenAPI tag of every operation it serves, so the two copies of a path are told apart in the docs.
    tag: str = ""
    #: Models whose generated viewsets it serves, each under its resource's name; another app's model by its label
    #: (`"webhooks.WebhookSubscription"`), as a ForeignKey names one, so the surface's app need not import it. Routes
    #: are matched in this order, so a resource whose name extends another's (`webhooks/deliveries`) comes first.
    models: tuple = ()
    #: Paths of hand-written routes (`site.route`) it serves too, at the same path.
    routes: tuple = ()
    #: List pagination on its paths; None keeps the resource's own.
    pagination_class: type[BasePagination] | None = None
    #: OpenAPI component of its error answers.
    error_envelope: type[BaseSerializer] = ErrorEnvelope

    def error(self, error: dict[str, Any], *, status_code: int, view: Any) -> dict[str, Any]:
        """The `error` object of an error answer as this surface words it (the envelope stays)."""
        return error

    def answer(self, view: Any, response: Response) -> Response:
        """A successful answer as this surface shapes it."""
        return response

    def answer_schema(self, view: Any, status_code: str) -> type[BaseSerializer] | BaseSerializer | None:
        """What `answer` makes of the view's `status_code` answer, for OpenAPI; None keeps the view's own."""
        return None


class SurfaceView:
    """Mixed in front of a generated viewset or a route on a surface: its answers and errors go through the
    surface's hooks, and a paginator's headers (`Link`, `X-Total-Count`) reach the response."""

    surface: Surface

    def get_exception_handler(self) -> Callable[[Exception, dict], Response | None]:
        handler = super().get_exception_handler()

        def surface_handler(exc: Exception, context: dict) -> Response | None:
            response = handler(exc, context)
            if response is not None and isinstance(response.data, dict) and "error" in response.data:
                response.data = {"error": self.surface.error(response.data["error"],
                                                             status_code=response.status_code, view=self)}
            return response

        return surface_handler

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any,
                          **kwargs: Any) -> HttpResponseBase:
        if isinstance(response, Response) and not response.exception and 200 <= response.status_code < 300:
            response = self.surface.answer(self, response)
            for name, value in getattr(getattr(self, "_paginator", None), "headers", {}).items():
                response[name] = value
        return super().finalize_response(request, response, *args, **kwargs)


def build_surface_view(surface: Surface, view: type) -> type:
    """`<Surface><View>`: `view` (a generated viewset or a route's view) answering in `surface`'s envelope."""
    attrs = {"surface": surface, "__doc__": view.__doc__, "__module__": view.__module__}
    if surface.pagination_class is not None and hasattr(view, "pagination_class"):
        attrs["pagination_class"] = surface.pagination_class
    if hasattr(view, "lookup_value_regex"):
        # Any id reaches the view, so a malformed one is the surface's own 404 rather than an unrouted path's.
        attrs["lookup_value_regex"] = "[^/]+"
    return type(f"{surface.name}{view.__name__}", (SurfaceView, view), attrs)
