"""A job goes queued → running → succeeded on a real worker, and the WebSocket and GET progress tell one story."""
from django.utils.dateparse import parse_datetime

from apps.jobs.models import Job

from .conftest import Socket, access_token, job_in, wait_for

PROBE = {"type": "jobs.probe", "params": {"seconds": 1.2, "steps": 4}}


def test_a_job_is_queued_runs_and_succeeds_with_its_progress_sent_over_the_websocket(workers, user, user_client):
    with Socket("/ws/jobs/", token=access_token(user)) as socket:
        response = user_client.post("/api/v1/jobs/", PROBE, format="json")
        messages = socket.messages_until_finished()

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    job_id = response.json()["id"]
    assert {message["job_id"] for message in messages} == {job_id}
    assert [message["status"] for message in messages] == ["running"] * 5 + ["succeeded"]
    assert [message["type"] for message in messages] == ["job.progress"] * 5 + ["job.finished"]
    assert [message["progress"] for message in messages] == [0, 25, 50, 75, 100, 100]
    assert [message["step"] for message in messages][1:] == [
        "step 1 of 4", "step 2 of 4", "step 3 of 4", "step 4 of 4", "step 4 of 4"]


def test_the_job_socket_starts_with_the_current_state_then_follows_the_job(workers, user, user_client):
    job_id = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": {"seconds": 60}},
                              format="json").json()["id"]
    wait_for(lambda: job_in(job_id, Job.Status.RUNNING), timeout=10, what="the job to start")

    with Socket(f"/ws/jobs/{job_id}/", token=access_token(user)) as socket:
        first = socket.receive()
        running_since = Job.objects.get(pk=job_id).updated_at
        user_client.post(f"/api/v1/jobs/{job_id}/cancel")
        last = socket.messages_until_finished()[-1]

    assert first == {"type": "job.progress", "job_id": job_id, "status": "running", "progress": 0, "step": "",
                     "message": "", "job_type": "jobs.probe", "updated_at": first["updated_at"]}
    assert parse_datetime(first["updated_at"]) == running_since
    assert last["type"] == "job.finished"
    assert last["status"] == "cancelled"


def test_get_progress_tells_the_same_story_as_the_websocket(workers, user, user_client):
    with Socket("/ws/jobs/", token=access_token(user)) as socket:
        job_id = user_client.post("/api/v1/jobs/", PROBE, format="json").json()["id"]
        finished = socket.messages_until_finished()[-1]

    response = user_client.get(f"/api/v1/jobs/{job_id}/progress")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("job_id", "status", "progress", "step", "message")} == {
        key: finished[key] for key in ("job_id", "status", "progress", "step", "message")}
    assert [(line["progress"], line["step"], line["message"]) for line in body["logs"]] == [
        (25 * n, f"step {n} of 4", f"Finished step {n}") for n in range(1, 5)]


def test_a_finished_job_records_its_attempt_timings_and_result(workers, user, user_client):
    with Socket("/ws/jobs/", token=access_token(user)) as socket:
        job_id = user_client.post("/api/v1/jobs/", PROBE, format="json").json()["id"]
        socket.messages_until_finished()

    job = user_client.get(f"/api/v1/jobs/{job_id}/").json()

    assert job["status"] == "succeeded"
    assert job["attempts"] == 1
    assert job["result"] == {"steps": 4, "seconds": 1.2}
    assert job["error"] == ""
    assert job["queued_at"] <= job["started_at"] < job["finished_at"]
