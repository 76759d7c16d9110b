"""The Migration Assistant guide's `POST /webhooks/`: the tenant's webhook subscriptions at the guide's root path, in
the guide's envelope, taking the guide's example body unchanged; and the migration events it names (started,
progress, completed, failed) delivered, signed, to a real local receiver after real runs through the workers."""
import json

import pytest
from standardwebhooks.webhooks import Webhook

from apps.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import client_for
from tests.migrations_app.conftest import allowed, build_tree, wait_until  # noqa: F401 (fixture)
from tests.workers import wait_for

from .conftest import finished

pytestmark = pytest.mark.django_db

RECEIVER = "http://127.0.0.1:9/hooks"


def guide_body(url: str) -> dict:
    """The guide's example body, word for word but for the URL (the tests' machine resolves no public names)."""
    return {
        "name": "Migration Notifications",
        "url": url,
        "events": ["migration.started", "migration.completed", "migration.failed", "migration.progress"],
        "headers": {"Authorization": "Bearer webhook-token", "Content-Type": "application/json"},
        "retry_policy": {"max_retries": 3, "retry_delay": 5},
    }


# --- The resource at the guide's path ------------------------------------------------------------------------------

def test_the_guides_example_body_creates_a_subscription_at_the_root(guide_client, tenant):
    response = guide_client.post("/webhooks/", guide_body(RECEIVER), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == guide_body(RECEIVER)["events"]
    assert body["headers"] == {"Authorization": "Bearer webhook-token", "Content-Type": "application/json"}
    assert body["retry_policy"] == {"max_retries": 3, "retry_delay": 5.0}
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert (subscription.tenant, subscription.max_retries, subscription.retry_delay) == (tenant, 3, 5.0)


def test_both_surfaces_serve_the_same_subscriptions(guide_client, user_client):
    created = guide_client.post("/webhooks/", guide_body(RECEIVER), format="json").json()

    listed = guide_client.get("/webhooks/")
    at_the_root = guide_client.get(f"/webhooks/{created['id']}/").json()
    under_api_v1 = user_client.get(f"/api/v1/webhooks/{created['id']}/").json()

    assert [row["id"] for row in listed.json()] == [created["id"]]  # the guide's plain array
    assert listed["X-Total-Count"] == "1"
    assert at_the_root == under_api_v1 and at_the_root["secret"] is None


def test_update_test_and_delete_work_at_the_root(guide_client):
    created = guide_client.post("/webhooks/", guide_body(RECEIVER), format="json").json()

    renamed = guide_client.patch(f"/webhooks/{created['id']}/", {"name": "Ops"}, format="json")
    ping = guide_client.post(f"/webhooks/{created['id']}/test/")
    delivery = guide_client.get(f"/webhooks/deliveries/{ping.json()['id']}/")
    deleted = guide_client.delete(f"/webhooks/{created['id']}/")

    assert renamed.status_code == 200 and renamed.json()["name"] == "Ops"
    assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.ping"
    assert delivery.status_code == 200 and delivery.json()["subscription"] == created["id"]
    assert deleted.status_code == 204 and not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(("header", "value", "why"), [
    ("webhook-signature", "v1,forged", "Standard Webhooks signature"),
    ("Webhook-Id", "msg_1", "Standard Webhooks signature"),
    ("Host", "internal.example", "set for each request"),
    ("Content-Length", "0", "set for each request"),
    ("User-Agent", "curl", "Tessera-Webhooks"),
    ("Content-Type", "text/plain", "can only be application/json"),
])
def test_a_header_every_delivery_sets_is_refused_naming_it(guide_client, header, value, why):
    body = {**guide_body(RECEIVER), "headers": {"Authorization": "Bearer webhook-token", header: value}}

    response = guide_client.post("/webhooks/", body, format="json")

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "INVALID_CONFIGURATION"
    assert header in error["details"]["headers"][0] and why in error["details"]["headers"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_header_named_twice_in_different_cases_is_refused(user_client):
    body = {**guide_body(RECEIVER), "headers": {"Authorization": "a", "authorization": "b"}}

    response = user_client.post("/api/v1/webhooks/", body, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    assert "given twice" in response.json()["error"]["details"]["headers"][0]


def test_members_are_insufficient_permissions_and_another_tenants_hook_not_found(second_user, other_user,
                                                                                 guide_client):
    created = guide_client.post("/webhooks/", guide_body(RECEIVER), format="json").json()

    member = client_for(second_user).post("/webhooks/", guide_body(RECEIVER), format="json")
    outsider = client_for(other_user).get(f"/webhooks/{created['id']}/")

    assert member.status_code == 403 and member.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert outsider.status_code == 404 and outsider.json()["error"]["code"] == "NOT_FOUND"


def test_openapi_documents_the_guides_webhooks_path_with_the_subscription_as_its_answer():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/webhooks/"]["post"]

    assert create["tags"] == ["Migration Assistant (guide paths)"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookSubscription")
    preset_create = schema["paths"]["/presets/"]["post"]["responses"]["201"]["content"]["application/json"]
    assert not preset_create["schema"]["$ref"].endswith("/MigrationCreated")  # a preset answers the preset


# --- Deliveries of the guide's migration events --------------------------------------------------------------------

def received_types(receiver) -> list[str]:
    return [json.loads(request.body)["type"] for request in receiver.received]


def run_migration(client, source, destination) -> dict:
    created = client.post("/migrations/", {"name": "Move the tree", "source": {"type": "directory", "path": str(source)},
                                           "destination": {"type": "directory", "path": str(destination)},
                                           "safety": {"rollback_on_failure": False}}, format="json")
    assert created.status_code == 201, created.content
    started = client.post(f"/migrations/{created.json()['session_id']}/start")
    assert started.status_code == 202, started.content
    return wait_until(client, created.json()["session_id"], timeout=60)


def all_delivered(receiver, *types: str) -> bool:
    """Every delivery made has ended, and among them are `types`."""
    return (not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()
            and set(types) <= set(received_types(receiver)))


def test_a_completed_migration_is_delivered_as_started_progress_and_completed(workers, guide_client, allowed,
                                                                              receiver):
    subscription = guide_client.post("/webhooks/", guide_body(receiver.url), format="json").json()
    build_tree(allowed / "source")

    outcome = run_migration(guide_client, allowed / "source", allowed / "destination")
    wait_for(lambda: all_delivered(receiver, "migration.started", "migration.progress", "migration.completed"),
             timeout=30, what="the migration's events to be delivered")

    assert outcome["status"] == "completed"
    types = received_types(receiver)
    assert set(types) <= {"migration.started", "migration.progress", "migration.completed"}  # only those asked for
    completed = next(request for request in receiver.received
                     if json.loads(request.body)["type"] == "migration.completed")
    envelope = Webhook(subscription["secret"]).verify(completed.body, completed.headers)
    assert envelope["data"]["session_id"] == outcome["session_id"] and envelope["data"]["status"] == "completed"
    assert completed.headers["authorization"] == "Bearer webhook-token"
    assert completed.header_names.count("content-type") == 1
    assert completed.headers["content-type"] == "application/json"
    assert all(delivery.status == "succeeded" for delivery in WebhookDelivery.objects.all())


def test_a_failed_migration_is_delivered_as_failed(workers, guide_client, allowed, receiver):
    guide_client.post("/webhooks/", guide_body(receiver.url), format="json")
    tree = build_tree(allowed / "source")
    # Where the source has a file, the destination has a directory: the copy cannot write it.
    (allowed / "destination" / min(tree)).mkdir(parents=True)

    outcome = run_migration(guide_client, allowed / "source", allowed / "destination")
    failed = wait_for(lambda: WebhookDelivery.objects.filter(event_type="migration.failed").first(), timeout=30,
                      what="the migration.failed delivery")

    assert outcome["status"] == "failed"
    assert finished(failed.pk).status == "succeeded"
    [request] = [request for request in receiver.received if json.loads(request.body)["type"] == "migration.failed"]
    assert json.loads(request.body)["data"]["session_id"] == outcome["session_id"]
