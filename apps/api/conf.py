"""Namespaced settings (`TESSERA_API`, `TESSERA_JOBS`, ...), the way DRF's `api_settings` reads `REST_FRAMEWORK`.

Each namespace is one `AppSettings` in its owning app's `conf.py`, with every default written there once:
`config/settings.py` sets only what the deployment's environment says. Values are read on first use and read
again after `override_settings` (tests), and a key the defaults do not know is a system check error, so a typo
in a deployment fails `manage.py check` instead of being silently ignored.
"""
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed


class AppSettings:
    """One settings dict, read as attributes: `jobs_settings.STALE_AFTER_SECONDS`.

    A default may be a function of no arguments, for a value derived from another deployment setting
    (the migration roots under DATA_DIR); it is called when the settings are read.
    """

    def __init__(self, setting_name: str, *, defaults: Mapping[str, Any], check_id: str,
                 validators: Mapping[str, tuple[str, Callable[[Any], str | None]]] | None = None) -> None:
        self.setting_name = setting_name
        self.defaults = dict(defaults)
        #: The id of the unknown-key error, stable so deployments can silence it knowingly (SILENCED_SYSTEM_CHECKS).
        self.check_id = check_id
        #: {key: (check id, problem)}: `problem(value)` says what is wrong with the key's value, or None. A value
        #: the code would trip over later (a malformed network, at delivery time) fails `manage.py check` instead.
        self.validators = dict(validators or {})
        self._cache: dict[str, Any] | None = None
        setting_changed.connect(self._reload_when_settings_change)
        checks.register(partial(self.check))  # a partial, because the registry tags what it registers

    def __repr__(self) -> str:
        return f"<AppSettings {self.setting_name}>"

    @property
    def _merged(self) -> dict[str, Any]:
        if self._cache is None:
            defaults = {name: value() if isinstance(value, Callable) else value
                        for name, value in self.defaults.items()}
            self._cache = {**defaults, **self._overrides()}
        return self._cache

    def _overrides(self) -> dict[str, Any]:
        return dict(getattr(settings, self.setting_name, None) or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self.defaults:
            raise AttributeError(f"Unknown {self.setting_name} setting {name!r}.")
        return self._merged[name]

    def reload(self) -> None:
        self._cache = None

    def _reload_when_settings_change(self, **kwargs: Any) -> None:
        """Whichever setting changed: a derived default may read another one (DATA_DIR)."""
        self.reload()

    def check(self, app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.Error]:

        """A key the defaults do not name is a typo or a leftover: an error naming the keys that exist. A value
        a validator finds wrong is an error with the validator's id, naming the key."""
        errors = []
        unknown = sorted(set(self._overrides()) - set(self.defaults))
        if unknown:
            errors.append(checks.Error(f"{self.setting_name} has unknown keys {unknown}.",
                                       hint=f"Known keys: {', '.join(sorted(self.defaults))}.", id=self.check_id))
        for name, (check_id, problem_of) in self.validators.items():
            problem = problem_of(getattr(self, name))
            if problem:
                errors.append(checks.Error(f"{self.setting_name}[{name!r}] {problem}", id=check_id))
        return errors


class ApiSettings(AppSettings):
    """TESSERA_API, plus the per-resource overrides the generator applies when it builds a resource."""

    def resource_options(self, resource_name: str) -> dict:
        """The overrides the deployment set for one resource (may be empty)."""
        return dict(self.RESOURCES.get(resource_name, {}))


#: Keys a per-resource entry of RESOURCES may set; anything else fails check api.E012.
RESOURCE_OPTIONS = {"page_size", "enabled", "throttle", "throttles", "bulk_max_items",
                    "etags",   # conditional requests (conditional.py), switchable per deployment
                    "events"}  # change events (events.py), likewise

api_settings = ApiSettings("TESSERA_API", check_id="api.E021", defaults={
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 100,
    # Requests per minute per user or API key, and per address for anonymous callers (""/None turns one off).
    "DEFAULT_THROTTLE": "1000/m",
    "ANON_THROTTLE": "100/m",
    # Per-resource knobs, e.g. {"tasks": {"page_size": 25, "throttle": "200/m", "enabled": true}}.
    "RESOURCES": {},
    # Dotted paths of `fn(context) -> (tenant, role)` and `fn(context, tenant_role=role) -> scopes`, each
    # reading a `scoping.AccessContext` (see scoping.resolve_access).
    "TENANT_RESOLVER": None,
    "SCOPE_RESOLVER": None,
    # Arrays and objects in a JSON body may nest this deep; deeper is a 400 before parsing (parsers.py).
    "MAX_JSON_DEPTH": 64,
    # Tenant roles that may purge (hard delete) rows of soft-delete resources, besides platform admins.
    "PURGE_ROLES": ("owner", "admin"),
    # The tenant membership roles a resource's `field_permissions` and `row_filters` may name (apps.tenants).
    "ROLES": ("owner", "admin", "member", "viewer"),
    # Operations one `POST /<resource>/bulk` may carry (a resource's `bulk_max_items` overrides it).
    "BULK_MAX_ITEMS": 100,
    # Idempotency-Key (apps/api/idempotency.py): how long a stored response is replayed, and how long a request
    # holds its key while it runs (should its process die, the key frees itself after this).
    "IDEMPOTENCY_TTL_SECONDS": 24 * 60 * 60,
    "IDEMPOTENCY_LOCK_SECONDS": 300,
})
