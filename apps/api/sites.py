"""`ResourceSite`: the registry of declarations, and the lazy builder of their classes and URLs (like AdminSite)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.apps import apps as django_apps
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db import models as django_models
from django.urls import re_path
from django.utils.module_loading import autodiscover_modules
from rest_framework.routers import DefaultRouter

from . import factories
from .conf import RESOURCE_OPTIONS, api_settings
from .resources import Resource
from .surfaces import Surface, build_surface_view

if TYPE_CHECKING:
    from django_filters import FilterSet
    from rest_framework import serializers

    from .viewsets import ResourceViewSet

Model = type[django_models.Model]
ResourceClass = TypeVar("ResourceClass", bound=type[Resource])


class AlreadyRegistered(Exception):
    pass


class NotRegistered(Exception):
    pass


class ResourceRouter(DefaultRouter):
    """DRF's DefaultRouter accepting every path with or without its trailing slash, and no format suffixes."""

    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


class ResourceSite:
    """Holds Resource declarations and builds their serializer, filterset, viewset and admin once, lazily."""

    def __init__(self) -> None:
        self._registry: dict = {}
        self._routes: list = []
        self._built: dict = {}
        self._surfaces: dict = {}

    # --- registration -----------------------------------------------------------------------
    def register(self, model: Model, resource_class: type[Resource] = Resource) -> None:
        if model._meta.abstract:
            raise ImproperlyConfigured(f"{model.__name__} is abstract and cannot be registered.")
        if model._meta.pk is None or getattr(model._meta.pk, "columns", None):
            raise ImproperlyConfigured(f"{model.__name__} has a composite primary key; resources need a single one.")
        if model in self._registry:
            raise AlreadyRegistered(f"{model.__name__} is already registered with {self._registry[model]!r}.")
        self._registry[model] = resource_class(model, self)
        self._built.clear()

    def unregister(self, model: Model) -> None:
        if model not in self._registry:
            raise NotRegistered(f"{model.__name__} is not registered.")
        del self._registry[model]
        self._built.clear()

    def is_registered(self, model: Model) -> bool:
        return model in self._registry

    def get_resource(self, model: Model) -> Resource:
        try:
            return self._registry[model]
        except KeyError:
            raise NotRegistered(f"{model.__name__} is not registered.") from None

    def resources(self) -> list[Resource]:
        return list(self._registry.values())

    def routes(self) -> list[tuple[str, type]]:
        """The hand-written views attached with `route()`, as (path, view class)."""
        return [(path, view) for path, view, _name in self._routes]

    def route(self, path: str, view: type, name: str | None = None) -> None:
        """Attach a hand-written view at `path` (no leading slash; the trailing slash is optional)."""
        self._routes.append((path, view, name or path.replace("/", "-")))
        self._built.clear()

    # --- building ----------------------------------------------------------------------------
    def effective_resource(self, model: Model) -> Resource:
        """The declaration with the deployment's TESSERA_API["RESOURCES"] overrides applied as a subclass."""
        declared = self.get_resource(model)
        options = {k: v for k, v in api_settings.resource_options(declared.name).items() if k in RESOURCE_OPTIONS}
        if not options:
            return declared
        if "throttles" in options:  # per-action rates from settings refine the declared ones, action by action
            options["throttles"] = {**declared.throttles, **options["throttles"]}
        subclass = type(type(declared).__name__, (type(declared),), {**options, "__module__": type(declared).__module__})
        return subclass(model, self)

    def get_serializer(self, model: Model) -> type[serializers.ModelSerializer]:
        return self._build(model)["serializer"]

    def get_filterset(self, model: Model) -> type[FilterSet]:
        return self._build(model)["filterset"]

    def get_viewset(self, model: Model) -> type[ResourceViewSet]:
        return self._build(model)["viewset"]

    def _build(self, model) -> dict:
        if model not in self._built:
            resource = self.effective_resource(model)
            serializer = factories.build_serializer(resource)
            filterset = factories.build_filterset(resource)
            viewset = factories.build_viewset(resource, serializer, filterset)
            self._built[model] = {"resource": resource, "serializer": serializer, "filterset": filterset,
                                  "viewset": viewset}
        return self._built[model]

    def register_admin(self, admin_site: admin.AdminSite = admin.site) -> None:
        """Give each resource a generated admin page unless its app's admin.py registered one already."""
        for model, resource in self._registry.items():
            if resource.admin is not False and not admin_site.is_registered(model):
                admin_site.register(model, factories.build_admin(resource))

    @property
    def urls(self) -> list:
        """The URL patterns of every enabled resource and route; include them under `api/v1/`."""
        if "urls" not in self._built:
            router = ResourceRouter()
            for model in self._registry:
                resource = self._build(model)["resource"]
                if resource.enabled:
                    router.register(resource.name, self.get_viewset(model), basename=resource.basename)
            routes = [re_path(rf"^{_literal(path) if '(' not in path else path}/?$", view.as_view(), name=name)
                      for path, view, name in self._routes]
            self._built["urls"] = routes + router.urls
        return self._built["urls"]

    # --- surfaces (surfaces.py) -----------------------------------------------------------------
    def add_surface(self, surface: Surface) -> None:
        """Serve `surface.models` and `surface.routes` once more, in the surface's envelope (`surface_urls`)."""
        if surface.name in self._surfaces:
            raise AlreadyRegistered(f"A surface named {surface.name!r} is already added.")
        self._surfaces[surface.name] = surface
        self._built.pop(("surface_urls", surface.name), None)

    def surfaces(self) -> list[Surface]:
        return list(self._surfaces.values())

    def surface_urls(self, name: str) -> list:
        """The URL patterns of the surface added as `name`: its resources under their names and its routes at
        their paths, with no prefix (include them where the surface's paths start). Built lazily, like `urls`."""
        key = ("surface_urls", name)
        if key not in self._built:
            surface = self._surfaces[name]
            router = ResourceRouter()
            router.include_root_view = False
            for model in surface.models:
                if isinstance(model, str):
                    model = django_apps.get_model(model)
                resource = self._build(model)["resource"]
                if resource.enabled:
                    router.register(resource.name, build_surface_view(surface, self.get_viewset(model)),
                                    basename=f"{surface.name.lower()}-{resource.basename}")
            views = {path: (view, name) for path, view, name in self._routes}
            routes = [re_path(rf"^{_literal(path)}/?$", build_surface_view(surface, views[path][0]).as_view(),
                              name=f"{surface.name.lower()}-{views[path][1]}") for path in surface.routes]
            self._built[key] = routes + router.urls
        return self._built[key]

    # --- scopes -----------------------------------------------------------------------------
    def scopes(self, *, include_admin_only: bool = True) -> frozenset[str]:
        """Every scope some resource, action or routed view needs: the catalogue roles and API keys choose from."""
        key = ("scopes", include_admin_only)
        if key not in self._built:
            found = set()
            for resource in self._registry.values():
                if include_admin_only or not resource.admin_only:
                    found |= resource.declared_scopes()
            found |= {view.scope for _path, view, _name in self._routes if getattr(view, "scope", None)}
            self._built[key] = frozenset(found)
        return self._built[key]

    def personal_scopes(self) -> frozenset[str]:
        """The scopes of `personal` resources: they act on the caller's own account, in whichever tenant."""
        if "personal_scopes" not in self._built:
            self._built["personal_scopes"] = frozenset(
                scope for resource in self._registry.values() if resource.personal
                for scope in resource.declared_scopes())
        return self._built["personal_scopes"]


site = ResourceSite()


def register(*models: Model, site: ResourceSite = site) -> Callable[[ResourceClass], ResourceClass]:
    """Class decorator registering a Resource for one or more models, like `admin.register`."""

    def decorator(resource_class: ResourceClass) -> ResourceClass:
        for model in models:
            site.register(model, resource_class)
        return resource_class

    return decorator


def autodiscover() -> None:
    """Import every installed app's `api` module so its declarations register (as admin does with admin.py)."""
    autodiscover_modules("api", register_to=site)


def _literal(path: str) -> str:
    """`path` as a regex matching itself. A dash needs no escape outside brackets, and re.escape's `\\-` would
    reach the OpenAPI paths, which drf-spectacular derives from the pattern (`auth/ws\\-ticket`)."""
    return re.escape(path).replace(r"\-", "-")
