"""Signing secrets are stored encrypted: the column widens to hold the ciphertext, and the secrets stored in plain
text until now are encrypted in place (and decrypted again when migrating back)."""
from django.db import migrations, models

PLAIN_PREFIX = "whsec_"  # every secret is made so (services.new_secret); a ciphertext never starts so


def encrypt_plain_secrets(apps, schema_editor):
    from apps.webhooks.services import seal_secret

    Subscription = apps.get_model("webhooks", "WebhookSubscription")
    for subscription in Subscription.objects.filter(secret__startswith=PLAIN_PREFIX).only("pk", "secret"):
        Subscription.objects.filter(pk=subscription.pk).update(secret=seal_secret(subscription.secret))


def decrypt_secrets(apps, schema_editor):
    from apps.webhooks.services import signing_secret

    Subscription = apps.get_model("webhooks", "WebhookSubscription")
    for subscription in Subscription.objects.exclude(secret__startswith=PLAIN_PREFIX).exclude(secret="").only(
            "pk", "secret"):
        Subscription.objects.filter(pk=subscription.pk).update(secret=signing_secret(subscription))


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='webhooksubscription',
            name='secret',
            field=models.TextField(editable=False, help_text='The signing secret, encrypted (Fernet).'),
        ),
        migrations.RunPython(encrypt_plain_secrets, decrypt_secrets),
    ]
