"""Operator console for GitHub identities: who signs in with which GitHub account; unlinking is deleting."""
from django.contrib import admin
from django.http import HttpRequest

from .models import GitHubAccount


@admin.register(GitHubAccount)
class GitHubAccountAdmin(admin.ModelAdmin):
    list_display = ["login", "github_id", "user", "linked_at"]
    search_fields = ["login", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "github_id", "login", "linked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
