"""Pull requests a project tracks, and the reviewer agent that reviews each."""
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.agents.configs import GIT_REF


class PullRequest(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        MERGED = "merged", "Merged"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="pull_requests")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pull_requests")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="pull_requests")
    number = models.PositiveIntegerField(null=True, blank=True, help_text="The GitHub pull request number.")
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    base = models.CharField(max_length=200, blank=True, validators=[RegexValidator(GIT_REF, "Not a branch name.")],
                            help_text="The branch it merges into.")
    head = models.CharField(max_length=200, blank=True, validators=[RegexValidator(GIT_REF, "Not a branch name.")],
                            help_text="The branch with the changes.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    author = models.CharField(max_length=100, blank=True)
    additions = models.PositiveIntegerField(null=True, blank=True)
    deletions = models.PositiveIntegerField(null=True, blank=True)
    changed_files = models.PositiveIntegerField(null=True, blank=True)
    reviewer = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The pr_reviewer agent of this pull request.")
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "owner", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="track_a_pull_request_once")]

    def __str__(self) -> str:
        return self.title or f"#{self.number}"

    @property
    def head_ref(self) -> str:
        """What a reviewer fetches: GitHub's ref for the pull request, or the head branch of a local repository."""
        return f"refs/pull/{self.number}/head" if self.number else self.head

