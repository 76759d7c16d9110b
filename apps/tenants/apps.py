from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    label = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from django.core import checks

        from apps.platform import caller_cache

        from . import signals  # noqa: F401 (connects the receivers)
        from .checks import check_policy_names
        from .selectors import requested_membership_field

        checks.register(check_policy_names)
        # The tenant a request names is read with its caller's cached state, in the same round trip.
        caller_cache.register_field(requested_membership_field)
