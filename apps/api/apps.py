from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Discovers every app's api.py, checks the declarations, registers generated admin pages, and keeps
    query strings (and the tokens clients put there) out of the server's own log lines."""

    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_resources
        from apps.platform.request_log import QueryStringFilter
        from .sites import autodiscover, site

        autodiscover()
        checks.register(check_resources)
        site.register_admin()
        QueryStringFilter.install_on_server_loggers()
