"""Webhook subscriptions through the generated endpoints: the secret shown once, validation, SSRF refusals at
creation, who may manage them, and tenant isolation."""
import base64
import socket

import pytest

from apps.webhooks.models import WebhookSubscription
from tests.conftest import CANARY

from .conftest import subscribe

pytestmark = pytest.mark.django_db

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def other_tenant_subscription(other_tenant):
    return WebhookSubscription.objects.create(tenant=other_tenant, name=f"Globex hook {CANARY}",
                                              url="https://example.com/hooks", events=["*"], secret="whsec_AAAA")


def test_owner_creates_a_subscription_and_gets_its_secret_once(user_client, tenant):
    body = subscribe(user_client, RECEIVER, headers={"X-Api-Token": "abc"},
                     retry_policy={"max_retries": 3, "retry_delay": 0.5})

    assert body["secret"].startswith("whsec_") and len(base64.b64decode(body["secret"][6:])) == 32
    assert (body["retry_policy"], body["headers"], body["active"]) == (
        {"max_retries": 3, "retry_delay": 0.5}, {"X-Api-Token": "abc"}, True)
    assert WebhookSubscription.objects.get(pk=body["id"]).tenant == tenant


def test_the_secret_is_never_shown_again(user_client):
    created = subscribe(user_client, RECEIVER)

    detail = user_client.get(f"/api/v1/webhooks/{created['id']}/")
    listed = user_client.get("/api/v1/webhooks/")
    updated = user_client.patch(f"/api/v1/webhooks/{created['id']}/", {"name": "Renamed"})

    for response in (detail, listed, updated):
        assert created["secret"] not in response.content.decode()
    assert detail.json()["secret"] is None


def test_the_admin_never_shows_the_secret(user_client, console):
    created = subscribe(user_client, RECEIVER)

    pages = [console.get(f"/admin/webhooks/webhooksubscription/{created['id']}/change/"),
             console.get("/admin/webhooks/webhooksubscription/")]

    assert [page.status_code for page in pages] == [200, 200]
    assert all(created["secret"] not in page.content.decode() for page in pages)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hooks", "http://[::1]/hooks", "http://10.0.0.7/hooks", "http://192.168.1.20/hooks",
    "http://172.16.0.1/hooks", "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/hooks",
    "http://224.0.0.1/hooks", "http://0.0.0.0/hooks", "http://[fd00:ec2::254]/hooks", "ftp://example.com/hooks",
    "http://user:pass@example.com/hooks",
])
def test_a_target_that_is_not_public_is_refused_at_creation(user_client, settings, url):
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": []}

    response = user_client.post("/api/v1/webhooks/", {"name": "x", "url": url, "events": ["*"]})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "url" in response.json()["error"]["details"]
    assert not WebhookSubscription.objects.exists()


def test_a_host_name_resolving_to_a_private_address_is_refused(user_client, monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real(
        "10.1.2.3" if host == "intranet.example.test" else host, *args, **kwargs))

    response = user_client.post("/api/v1/webhooks/", {"name": "x", "url": "https://intranet.example.test/",
                                                      "events": ["*"]})

    assert response.status_code == 400
    assert "10.1.2.3 is a private address" in response.json()["error"]["details"]["url"][0]


def test_changing_the_url_to_a_refused_target_is_a_400(user_client, settings):
    created = subscribe(user_client, RECEIVER)
    settings.TESSERA_WEBHOOKS = {"ALLOWED_NETWORKS": []}

    response = user_client.patch(f"/api/v1/webhooks/{created['id']}/", {"url": "http://169.254.169.254/"})

    assert response.status_code == 400 and "url" in response.json()["error"]["details"]
    assert WebhookSubscription.objects.get(pk=created["id"]).url == RECEIVER


@pytest.mark.parametrize(("payload", "field"), [
    ({"events": []}, "events"),
    ({"events": ["Tasks Created"]}, "events"),
    ({"headers": {"webhook-signature": "v1,forged"}}, "headers"),
    ({"headers": {"bad header": "x"}}, "headers"),
    ({"retry_policy": {"max_retries": 11}}, "retry_policy"),
    ({"retry_policy": {"retry_delay": 0}}, "retry_policy"),
    ({"url": "not a url"}, "url"),
])
def test_bad_input_is_a_400_naming_the_field(user_client, payload, field):
    response = user_client.post("/api/v1/webhooks/", {"name": "x", "url": RECEIVER, "events": ["*"], **payload})

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("user_client", 200), ("admin_client", 200),
                                                 ("second_user_client", 403), ("viewer_client", 403)])
def test_only_the_tenants_owners_and_admins_manage_subscriptions(request, persona, status):
    client = request.getfixturevalue(persona)

    response = client.get("/api/v1/webhooks/")

    assert response.status_code == status


def test_another_tenants_subscription_is_not_found(user_client, other_tenant_subscription):
    paths = [f"/api/v1/webhooks/{other_tenant_subscription.pk}/"]

    detail = user_client.get(paths[0])
    update = user_client.patch(paths[0], {"name": "mine"})
    test = user_client.post(f"{paths[0]}test/")
    listed = user_client.get("/api/v1/webhooks/")

    assert [detail.status_code, update.status_code, test.status_code] == [404, 404, 404]
    assert CANARY not in listed.content.decode()
