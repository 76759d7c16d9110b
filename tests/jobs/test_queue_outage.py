"""A job the queue cannot take (Redis down at hand-off) still reaches a final state and frees its tenant's slot."""
import pytest
import redis

from apps.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)  # the hand-off happens on a real commit

PROBE = {"type": "jobs.probe", "params": {}}


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("apps.jobs.services.async_task", refuse)


def test_a_job_the_queue_cannot_take_fails_at_once_with_the_reason(broker_down, user_client):
    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 201
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.FAILED
    assert "job queue" in job.error
    assert job.finished_at is not None


def test_a_job_the_queue_could_not_take_does_not_hold_a_slot_of_the_tenants_limit(broker_down, user_client, tenant,
                                                                                  monkeypatch):
    tenant.max_concurrent_jobs = 1
    tenant.save(update_fields=["max_concurrent_jobs"])
    user_client.post("/api/v1/jobs/", PROBE, format="json")
    monkeypatch.setattr("apps.jobs.services.async_task", lambda *args, **kwargs: None)  # Redis is back

    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 201
