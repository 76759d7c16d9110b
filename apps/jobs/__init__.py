"""Tessera's job engine: long work runs as a Job on django-q2 workers and reports progress live.

    from apps import jobs

    @jobs.register("tasks.export", params=ExportParams, scope="tasks:read")
    def run_export(params, progress):
        ...

Names are loaded on first use (PEP 562): this package is imported while Django populates its app registry.
"""
from importlib import import_module
from typing import Any

_PUBLIC = {
    "register": "apps.jobs.registry",
    "registry": "apps.jobs.registry",
    "JobCancelled": "apps.jobs.progress",
    "RetryableError": "apps.jobs.progress",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'apps.jobs' has no attribute {name!r}")
