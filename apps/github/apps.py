from django.apps import AppConfig


class GitHubConfig(AppConfig):
    name = "apps.github"
    label = "github"
    verbose_name = "GitHub"
