from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The service's own plumbing, below every other app: request ids, the request log, client addresses,
    metrics, readiness, security events and the endpoints outside /api/v1/. It keeps query strings (and the
    tokens clients put there) out of the server's own log lines."""

    name = "apps.platform"
    label = "platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from .request_log import QueryStringFilter

        QueryStringFilter.install_on_server_loggers()
