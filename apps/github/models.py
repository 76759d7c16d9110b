"""The GitHub identity a Tessera account signs in with."""
from django.conf import settings
from django.db import models


class GitHubAccount(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="github_account")
    github_id = models.BigIntegerField(unique=True, help_text="GitHub's numeric user id (a login can be renamed).")
    login = models.CharField(max_length=100)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "GitHub account"

    def __str__(self) -> str:
        return f"{self.login} ({self.user})"
