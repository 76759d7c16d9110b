"""The tenant's limit on concurrent jobs holds when requests race: two creates can never both pass."""
import threading

import pytest
from django.db import connection

from apps.accounts.testing import TenantAPIClient
from apps.jobs.models import Job
from apps.tenants.services import tenant_policies_set


pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5
PROBE = {"type": "jobs.probe", "params": {}}


def create_at_once(clients) -> list[int]:
    """POST a job from every client at the same moment, each on its own thread and database connection."""
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def create(index, client):
        try:
            barrier.wait(timeout=5)
            statuses[index] = client.post("/api/v1/jobs/", PROBE, format="json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(index, client)) for index, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    return statuses


def test_two_concurrent_creates_cannot_both_pass_a_limit_of_one(user, second_user, tenant):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1)
    clients = [TenantAPIClient(tenant=tenant).as_user(user), TenantAPIClient(tenant=tenant).as_user(second_user)]

    outcomes = []
    for _ in range(ROUNDS):
        outcomes.append(sorted(create_at_once(clients)))
        Job.objects.all().delete()

    assert outcomes == [[201, 409]] * ROUNDS
