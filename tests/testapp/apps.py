from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A test-only app whose api.py declares a second resource through the generator."""

    name = "tests.testapp"
    label = "testapp"
