"""Knocking on another tenant's door: every attempt is a 403, but a flood of them is one audit row a minute."""
import pytest

from apps.api.errors import PermissionDenied
from apps.api.scoping import AccessContext
from apps.audit.models import AuditLog
from apps.tenants.selectors import tenant_for_access
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ATTEMPTS = 50


def cross_tenant_rows():
    return AuditLog.objects.filter(event=AuditLog.Event.CROSS_TENANT_ATTEMPT)


def test_a_flood_of_cross_tenant_attempts_is_refused_every_time_and_audited_once(user, other_tenant):
    client = client_for(user, other_tenant)

    statuses = {client.get("/api/v1/tasks/").status_code for _ in range(ATTEMPTS)}

    assert statuses == {403}
    assert cross_tenant_rows().count() == 1
    assert cross_tenant_rows().get().tenant == other_tenant


def test_a_flood_of_guessed_tenant_ids_is_audited_once(user_client):
    statuses = {user_client.get("/api/v1/tasks/", HTTP_X_TENANT_ID=str(10_000 + n)).status_code
                for n in range(ATTEMPTS)}

    assert statuses == {403}
    assert cross_tenant_rows().count() == 1


def test_each_caller_and_each_knocked_on_tenant_gets_its_own_row(user, second_user, other_tenant, tenant):
    """Per caller and per tenant, so every tenant's owners still learn who knocked on their door."""
    for _ in range(3):
        client_for(user, other_tenant).get("/api/v1/tasks/")
        client_for(second_user, other_tenant).get("/api/v1/tasks/")
        client_for(second_user).get("/api/v1/tasks/", HTTP_X_TENANT_ID="no-such-tenant")

    rows = {(row.actor.email, row.tenant_id) for row in cross_tenant_rows().select_related("actor")}
    assert rows == {("second@example.com", None), ("second@example.com", other_tenant.pk),
                    ("user@example.com", other_tenant.pk)}
    assert cross_tenant_rows().count() == 3


def test_the_tenant_resolver_only_names_the_attempt_and_writes_nothing(user, other_tenant):
    """The resolver is a selector: the access chokepoint that called it records the attempt, for every surface."""
    context = AccessContext(user=user, auth=None, tenant_wanted=other_tenant.slug, client_ip="203.0.113.7",
                            path="/api/v1/tasks/")

    with pytest.raises(PermissionDenied) as refusal:
        tenant_for_access(context)

    assert refusal.value.security_event == AuditLog.Event.CROSS_TENANT_ATTEMPT
    assert refusal.value.security_details["tenant"] == other_tenant
    assert not AuditLog.objects.exists()
