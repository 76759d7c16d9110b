"""The migration that encrypts signing secrets encrypts those stored in plain text, and migrating back restores them."""
import pytest

from apps.webhooks.services import signing_secret
from tests.migrating import latest, migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = [("webhooks", "0001_initial")]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_plain_secrets_are_encrypted_in_place_and_decrypted_when_migrating_back(tenant):
    with migrated_back_to(PLAIN) as old_apps:
        old_apps.get_model("webhooks", "WebhookSubscription").objects.create(
            tenant_id=tenant.pk, name="CRM", url="https://crm.example.com/hooks", events=["*"], secret=SECRET)

        encrypted = migrate(latest()).get_model("webhooks", "WebhookSubscription").objects.get()

        assert not encrypted.secret.startswith("whsec_") and signing_secret(encrypted) == SECRET

        restored = migrate(PLAIN).get_model("webhooks", "WebhookSubscription").objects.get()

        assert restored.secret == SECRET
