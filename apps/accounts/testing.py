"""The API client tests use: it authenticates as a real client does (a JWT from a real sign-in, or an API key) and can
pin a tenant. It lives with accounts, which owns sign-in, so the generator needs nothing of accounts."""
from typing import Any

from django.http import HttpResponse
from rest_framework.test import APIClient

from .models import User
from .services import token_pair_issue


class TenantAPIClient(APIClient):
    """An APIClient that authenticates like a real client (a JWT or an API key) and can pin a tenant."""

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_header = str(tenant.pk) if tenant is not None else None

    def as_user(self, user: User) -> "TenantAPIClient":
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user)['access']}")  # its sign-in is live
        return self

    def with_api_key(self, secret: str) -> "TenantAPIClient":
        self.credentials(HTTP_X_API_KEY=secret)
        return self

    def request(self, **kwargs: Any) -> HttpResponse:

        if self.tenant_header is not None:
            kwargs.setdefault("HTTP_X_TENANT_ID", self.tenant_header)
        return super().request(**kwargs)
