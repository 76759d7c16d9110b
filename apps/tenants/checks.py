"""System checks of the per-tenant settings other apps declare (TenantPolicy subclasses)."""
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error

from .models import Tenant, TenantPolicy
from .selectors import tenant_policies


def check_policy_names(app_configs: Sequence[AppConfig] | None = None,
                       policies: Sequence[type[TenantPolicy]] | None = None, **kwargs: Any) -> list[Error]:

    """Every per-tenant setting is a field of the tenants resource by its bare name, so two apps (or an app and
    Tenant itself) declaring the same name would write one value into both places: tenants.E001."""
    owners = {field.name: "Tenant" for field in Tenant._meta.get_fields()}
    errors = []
    for policy in tenant_policies() if policies is None else policies:
        for name in policy.setting_names():
            if name in owners:
                errors.append(Error(f"{policy.__name__}.{name} has the name of {owners[name]}.{name}.", obj=policy,
                                    hint="Name a per-tenant setting after what it limits, as max_concurrent_jobs is.",
                                    id="tenants.E001"))
            owners.setdefault(name, policy.__name__)
    return errors
