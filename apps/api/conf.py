"""`api_settings`: the TESSERA_API settings dict, with defaults in code and per-resource overrides."""
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 100,
    "DEFAULT_THROTTLE": "1000/m",
    "ANON_THROTTLE": "100/m",
    "RESOURCES": {},
    # Dotted paths of `fn(context) -> (tenant, role)` and `fn(context, tenant_role=role) -> scopes`, each
    # reading a `scoping.AccessContext` (see scoping.resolve_access).
    "TENANT_RESOLVER": None,
    "SCOPE_RESOLVER": None,
    # Arrays and objects in a JSON body may nest this deep; deeper is a 400 before parsing (parsers.py).
    "MAX_JSON_DEPTH": 64,
}

#: Keys a per-resource entry of RESOURCES may set; anything else fails check api.E012.
RESOURCE_OPTIONS = {"page_size", "enabled", "throttle", "throttles"}


class ApiSettings:
    """Reads TESSERA_API lazily, so tests can override it and the generator sees the change."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    @property
    def _merged(self) -> dict:
        if self._cache is None:
            self._cache = {**DEFAULTS, **getattr(settings, "TESSERA_API", {})}
        return self._cache

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown TESSERA_API setting {name!r}.")
        return self._merged[name]

    def resource_options(self, resource_name: str) -> dict:
        """The overrides the deployment set for one resource (may be empty)."""
        return dict(self.RESOURCES.get(resource_name, {}))

    def reload(self) -> None:
        self._cache = None


api_settings = ApiSettings()


def _reload_api_settings(*, setting, **kwargs):
    if setting == "TESSERA_API":
        api_settings.reload()


setting_changed.connect(_reload_api_settings)
