"""Projects: a code repository the agent platform works on, owned by one user inside a tenant."""
from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models

from .repositories import validate_repository_url


class Project(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="projects")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200, validators=[MinLengthValidator(1)])
    description = models.TextField(blank=True)
    repository_url = models.CharField(
        max_length=500, validators=[validate_repository_url],
        help_text="https://github.com/<owner>/<name>, or the path of a git repository under the deployment's "
                  "allowed roots.")
    default_branch = models.CharField(max_length=200, default="main")
    enabled = models.BooleanField(default=True, help_text="Disabled projects keep their data but start no agents.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name
