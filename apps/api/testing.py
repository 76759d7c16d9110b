"""Test helpers: an API client that acts as a user in a tenant, and a fresh ResourceSite for generator tests."""
from rest_framework.test import APIClient

from .sites import ResourceSite


class TenantAPIClient(APIClient):
    """An APIClient that authenticates like a real client (a JWT or an API key) and can pin a tenant."""

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_header = str(tenant.pk) if tenant is not None else None

    def as_user(self, user) -> "TenantAPIClient":
        from apps.accounts.services import token_pair_issue  # a real sign-in, so its token family is live

        self.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user)['access']}")
        return self

    def with_api_key(self, secret: str) -> "TenantAPIClient":
        self.credentials(HTTP_X_API_KEY=secret)
        return self

    def request(self, **kwargs):
        if self.tenant_header is not None:
            kwargs.setdefault("HTTP_X_TENANT_ID", self.tenant_header)
        return super().request(**kwargs)


def fresh_site() -> ResourceSite:
    """An empty registry, so a generator test declares exactly the resources it needs."""
    return ResourceSite()
