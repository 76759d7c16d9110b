"""Cancel, retry and delete on a real worker: prompt cooperative cancellation and 409 for the wrong status."""
import time

from apps.jobs.models import Job

from .conftest import Socket, access_token, job_in, wait_for

LONG_PROBE = {"type": "jobs.probe", "params": {"seconds": 20, "steps": 2}}


def start_long_probe(client) -> int:
    job_id = client.post("/api/v1/jobs/", LONG_PROBE, format="json").json()["id"]
    wait_for(lambda: job_in(job_id, Job.Status.RUNNING), timeout=10, what="the probe to start")
    return job_id


def test_a_running_job_ends_cancelled_within_two_seconds_of_the_cancel(workers, user_client):
    job_id = start_long_probe(user_client)

    requested = time.monotonic()
    response = user_client.post(f"/api/v1/jobs/{job_id}/cancel")
    job = wait_for(lambda: job_in(job_id, *Job.FINISHED), timeout=5, interval=0.02, what="the job to stop")
    took = time.monotonic() - requested

    assert response.status_code == 200
    assert response.json()["status"] == "running"  # flagged; the worker stops it at its next check
    assert job.status == Job.Status.CANCELLED
    assert job.error == "Cancelled on request."
    assert took < 2, f"cancelled after {took:.2f} s"


def test_retrying_a_running_job_is_a_conflict(workers, user_client):
    job_id = start_long_probe(user_client)

    response = user_client.post(f"/api/v1/jobs/{job_id}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_deleting_a_running_job_is_a_conflict_and_keeps_it(workers, user_client):
    job_id = start_long_probe(user_client)

    response = user_client.delete(f"/api/v1/jobs/{job_id}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Job.objects.filter(pk=job_id).exists()


def test_a_cancelled_job_runs_again_when_retried(workers, user, user_client):
    job_id = start_long_probe(user_client)
    user_client.post(f"/api/v1/jobs/{job_id}/cancel")
    wait_for(lambda: job_in(job_id, Job.Status.CANCELLED), timeout=5, what="the cancel")
    Job.objects.filter(pk=job_id).update(params={"seconds": 0.3, "steps": 1})  # the second run can be short

    with Socket(f"/ws/jobs/{job_id}/", token=access_token(user)) as socket:
        found = socket.receive()
        response = user_client.post(f"/api/v1/jobs/{job_id}/retry")
        messages = socket.messages_until_finished()

    assert found["status"] == "cancelled"
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert [message["status"] for message in messages][:2] == ["queued", "running"]
    assert messages[-1]["status"] == "succeeded"
    assert Job.objects.get(pk=job_id).attempts == 1
