"""Fixtures of the accounts tests: token pairs obtained through the real login endpoint."""
import pytest

from apps.accounts.testing import TenantAPIClient
from tests.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def login():
    """POST auth/token as a client would; returns the token pair (the login must succeed)."""

    def login(email: str, password: str = PASSWORD) -> dict:
        response = TenantAPIClient().post(TOKEN_URL, {"email": email, "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    return login


@pytest.fixture
def bearer():
    """A client that sends `Authorization: Bearer <access>`, optionally pinned to a tenant."""

    def bearer(access: str, tenant=None) -> TenantAPIClient:
        client = TenantAPIClient(tenant=tenant)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return bearer


@pytest.fixture
def user_tokens(user, login) -> dict:
    """A token pair of `user`, issued by auth/token."""
    return login(user.email)
