"""Users with email login and a platform role, their sign-ins (token families), and the API keys they hold."""
import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. `role` is the platform role; tenant roles live on Membership."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        USER = "user", "User"
        VIEWER = "viewer", "Viewer"
        #: A service account of an external agent service: it reports on the agent runs handed to it, nothing else.
        AGENT = "agent", "Agent service"

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def clean(self) -> None:
        super().clean()
        # Login lowercases the email it is given, so an email saved any other way (admin forms) must be too,
        # or that user could never log in and a case-variant duplicate would pass the unique check.
        self.email = type(self).objects.normalize_email(self.email).lower()

    @property
    def is_platform_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class TokenFamily(models.Model):
    """One sign-in. Its refresh tokens, each rotated from the last, and every access token they issued carry its
    id in the `family` claim, and a token is accepted only while its family is live. Revoking the family ends
    them all at once in every process: logout, reuse of a rotated refresh token, a password change and a
    deactivation do it. A revoked family is never revived (reactivating a user starts no old sign-in again).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self):
        return f"Sign-in of {self.user_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ApiKey(models.Model):
    """A long-lived credential for scripts. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False,
                              help_text="Public part of the key, shown to identify it.")
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:

        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
