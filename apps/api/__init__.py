"""Tessera's resource generator: declare a model's API once, the way admin.py declares its admin page.

    from apps import api

    @api.register(Task)
    class TaskResource(api.Resource):
        scope = "tasks"
        ...

Names are loaded on first use (PEP 562), because this package is imported while Django populates its
app registry, before DRF may be imported.
"""
from importlib import import_module
from typing import Any

_PUBLIC = {
    "Access": "apps.api.permissions",
    "Admin": "apps.api.resources",
    "JSONListFilter": "apps.api.filtering",
    "Resource": "apps.api.resources",
    "Surface": "apps.api.surfaces",
    "action": "apps.api.actions",
    "admin_action": "apps.api.admin_actions",
    "register": "apps.api.sites",
    "autodiscover": "apps.api.sites",
    "site": "apps.api.sites",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'apps.api' has no attribute {name!r}")
