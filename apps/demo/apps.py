from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: demo accounts and a few rows of every domain for a first look (`make run`).

    An app of its own because the demo data spans every domain app: it sits above them all, so no domain app
    imports another to seed it.
    """

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo data"
