"""Signing secrets at rest: encrypted in the database (shown once, at creation, and still signing deliveries:
tests/webhooks/test_deliveries.py verifies them with the secret the create response showed)."""
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core import checks

from apps.migrations_app import credentials
from apps.webhooks.models import WebhookSubscription
from apps.webhooks.services import signing_secret

from .conftest import subscribe

pytestmark = pytest.mark.django_db

RECEIVER = "http://127.0.0.1:9/hooks"


def stored(created: dict) -> str:
    return WebhookSubscription.objects.values_list("secret", flat=True).get(pk=created["id"])


def test_the_database_holds_the_secret_encrypted(user_client):
    created = subscribe(user_client, RECEIVER)

    column = stored(created)

    assert created["secret"] not in column and created["secret"].removeprefix("whsec_") not in column
    assert signing_secret(WebhookSubscription.objects.get(pk=created["id"])) == created["secret"]


def test_the_admin_shows_neither_the_secret_nor_its_ciphertext(user_client, console):
    created = subscribe(user_client, RECEIVER)

    page = console.get(f"/admin/webhooks/webhooksubscription/{created['id']}/change/").content.decode()

    assert created["secret"] not in page and stored(created) not in page


def test_the_admin_cannot_add_a_subscription_because_only_the_api_makes_its_secret(console):
    """A subscription made in the console would have no signing secret and an unchecked URL."""
    assert console.get("/admin/webhooks/webhooksubscription/add/").status_code == 403
    assert "/admin/webhooks/webhooksubscription/add/" not in console.get(
        "/admin/webhooks/webhooksubscription/").content.decode()


def test_a_configured_key_encrypts_them(user_client, settings):
    key = Fernet.generate_key().decode()
    settings.TESSERA_WEBHOOKS = {**settings.TESSERA_WEBHOOKS, "SECRETS_KEY": key}
    created = subscribe(user_client, RECEIVER)

    assert Fernet(key.encode()).decrypt(stored(created).encode()).decode() == created["secret"]


def test_a_secret_cannot_be_opened_as_a_migration_credential(user_client):
    """Without configured keys both derive theirs from SECRET_KEY, each for its own purpose."""
    created = subscribe(user_client, RECEIVER)

    with pytest.raises(InvalidToken):
        credentials.unseal(stored(created))


@pytest.mark.parametrize("setting, check_id", [("TESSERA_WEBHOOKS", "webhooks.E003"),
                                               ("TESSERA_MIGRATIONS", "migrations_app.E002")])
def test_a_configured_key_that_is_no_fernet_key_fails_the_checks(settings, setting, check_id):
    setattr(settings, setting, {**getattr(settings, setting), "SECRETS_KEY": "correct horse battery staple"})

    errors = [error for error in checks.run_checks() if error.id == check_id]

    assert [error.msg for error in errors] == [f"{setting}['SECRETS_KEY'] is not a Fernet key (32 url-safe "
                                               "base64-encoded bytes; Fernet.generate_key() makes one)."]
