"""A client application's token on the API: it acts for the person with the scopes it was granted, as an API key
does, and dies with the person's other credentials. (The flow that issues it: test_oauth2_authorization_code.py.)"""
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from apps.accounts.scopes import credential_scopes
from apps.accounts.services import password_change, socket_ticket_redeem
from apps.accounts.testing import TenantAPIClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

Application = get_application_model()
AccessToken = get_access_token_model()


@pytest.fixture
def application(admin_user):
    return Application.objects.create(
        name="Reporting tool", user=admin_user, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris="https://tool.example/cb")


def issued(user, application, scope: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    """A token as the token endpoint issues it, for `user`, with `scope`."""
    raw = f"app-token-{user.pk}-{scope.replace(' ', '-').replace(':', '-')}"
    AccessToken.objects.create(user=user, application=application, token=raw, scope=scope,
                               expires=timezone.now() + expires_in)
    return raw


def app_client(raw: str, tenant=None) -> TenantAPIClient:
    client = TenantAPIClient(tenant=tenant)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_token_holds_only_its_scopes(user, tenant, application, task):
    client = app_client(issued(user, application, "tasks:read"), tenant)

    assert client.get("/auth/me").json()["scopes"] == ["tasks:read"]
    assert client.get("/api/v1/tasks/").status_code == 200
    assert client.post("/api/v1/tasks/", {"title": "x"}).status_code == 403


def test_the_scopes_narrow_the_persons_never_widen_them(viewer, tenant, application):
    client = app_client(issued(viewer, application, "tasks:read tasks:write"), tenant)

    assert client.get("/auth/me").json()["scopes"] == ["tasks:read"]
    assert client.post("/api/v1/tasks/", {"title": "x"}).status_code == 403


def test_it_acts_in_the_tenant_the_header_names_and_no_other(user, tenant, other_tenant, application):
    raw = issued(user, application, "tasks:read")

    assert app_client(raw, tenant).get("/api/v1/tasks/").status_code == 200
    assert app_client(raw, other_tenant).get("/api/v1/tasks/").status_code == 403


def test_account_self_service_refuses_it(user, application):
    client = app_client(issued(user, application, "api_keys:read api_keys:write"))

    assert client.get("/auth/api-keys").status_code == 403
    response = client.post("/api/v1/auth/password", {"old_password": PASSWORD, "new_password": "x" * 20})
    assert response.status_code == 403


@pytest.mark.parametrize("state", ["expired", "unknown"])
def test_an_expired_or_unknown_token_is_401_token_invalid(user, application, state):
    raw = issued(user, application, "tasks:read", expires_in=timedelta(seconds=-1)) if state == "expired" else "nope"

    response = app_client(raw).get("/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_password_change_revokes_the_applications_tokens(user, application):
    raw = issued(user, application, "tasks:read")

    password_change(user=user, old_password=PASSWORD, new_password="a-brand-new-long-password")

    assert app_client(raw).get("/auth/me").status_code == 401


def test_a_websocket_ticket_it_asks_for_carries_its_scopes_only(user, tenant, application):
    ticket = app_client(issued(user, application, "tasks:read")).post("/api/v1/auth/ws-ticket").json()["ticket"]

    redeemed_user, credential = socket_ticket_redeem(ticket)

    assert redeemed_user == user
    assert credential_scopes(credential) == frozenset({"tasks:read"})
