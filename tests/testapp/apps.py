from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A test-only app whose api.py declares a second resource through the generator, and which receives
    relayed change events (receivers.py)."""

    name = "tests.testapp"
    label = "testapp"

    def ready(self) -> None:
        from apps.events.receivers import register

        from .receivers import record

        register(record)
