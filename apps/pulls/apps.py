from django.apps import AppConfig


class PullsConfig(AppConfig):
    name = "apps.pulls"
    label = "pulls"
    verbose_name = "Pull requests"
