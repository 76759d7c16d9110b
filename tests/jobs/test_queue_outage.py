"""A job the queue cannot take (Redis down at hand-off) is answered as what it is: a 503, and a job row that
says failed, not queued. The job still reaches a final state and frees its tenant's slot.

The broker is a real Redis client pointed at a port where nothing listens, not a mock.
"""
import socket

import pytest
from django_q.conf import Conf

from apps.jobs import broker, services
from apps.jobs.models import Job
from apps.tenants.services import tenant_policies_set

pytestmark = pytest.mark.django_db(transaction=True)  # the hand-off happens on a real commit

PROBE = {"type": "jobs.probe", "params": {}}


def dead_redis_url() -> str:
    """A Redis URL on a local port nobody listens on (bound, then closed, so it is free and refuses)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def broker_down(monkeypatch, handed_over):
    """The real django-q2 hand-off, its broker settings (read once into its Conf) pointed at the dead port.

    Returns "Redis is back": the hand-off is then recorded again (`handed_over`), as in other tests.
    """
    recorded = services.queue_task
    monkeypatch.setattr(services, "queue_task", broker.queue_task)
    monkeypatch.setattr(Conf, "REDIS", dead_redis_url())
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    return lambda: monkeypatch.setattr(services, "queue_task", recorded)


def created_job() -> Job:
    return Job.objects.get()


def test_a_job_the_queue_cannot_take_is_a_503_unavailable(broker_down, user_client):
    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["details"] == {"job_id": [str(created_job().pk)]}


def test_a_job_the_queue_cannot_take_is_recorded_as_failed_with_the_reason(broker_down, user_client):
    user_client.post("/api/v1/jobs/", PROBE, format="json")

    job = created_job()
    assert job.status == Job.Status.FAILED
    assert "job queue" in job.error
    assert job.finished_at is not None


def test_retrying_a_job_while_the_queue_is_down_is_a_503_and_the_job_stays_failed(broker_down, user_client, user,
                                                                                  tenant):
    job = Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.FAILED)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/retry")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_a_job_the_queue_could_not_take_does_not_hold_a_slot_of_the_tenants_limit(broker_down, user_client, tenant):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1)
    user_client.post("/api/v1/jobs/", PROBE, format="json")
    redis_is_back = broker_down
    redis_is_back()

    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 201
