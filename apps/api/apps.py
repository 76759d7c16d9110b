from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Discovers every app's api.py, checks the declarations and registers generated admin pages."""

    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_resources
        from .sites import autodiscover, site

        autodiscover()
        checks.register(check_resources)
        site.register_admin()
