"""The Jobs HTTP contract of API.md, without workers: create, types, lists, stats, actions and isolation."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.jobs.models import Job, JobFile
from apps.jobs.schedules import REAPER_NAME
from apps.tenants.services import tenant_policies_set
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db

PROBE = {"type": "jobs.probe", "params": {"seconds": 1}}


def make_job(user, tenant, **fields) -> Job:
    return Job.objects.create(tenant=tenant, created_by=user, **{"type": "jobs.probe", **fields})


@pytest.fixture
def finished_job(user, tenant):
    return make_job(user, tenant, status=Job.Status.SUCCEEDED, progress=100, started_at=timezone.now(),
                    finished_at=timezone.now())


@pytest.fixture
def second_user_job(second_user, tenant):
    return make_job(second_user, tenant, step=CANARY)


@pytest.fixture
def other_tenant_job(other_user, other_tenant):
    return make_job(other_user, other_tenant, step=CANARY)


# --- create -------------------------------------------------------------------------------------------------


def test_creating_a_job_answers_201_queued(user_client):
    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["status"], body["progress"], body["params"]) == (
        "jobs.probe", "queued", 0, {"seconds": 1.0, "steps": 1})


def test_a_created_job_is_handed_to_the_queue_once_and_only_after_commit(user_client, handed_over,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = user_client.post("/api/v1/jobs/", PROBE, format="json")
        before_commit = list(handed_over)
    for callback in callbacks:
        callback()

    assert before_commit == []
    assert handed_over == [response.json()["id"]]


def test_an_unknown_job_type_is_400_on_type(user_client):
    response = user_client.post("/api/v1/jobs/", {"type": "jobs.nope", "params": {}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "type" in response.json()["error"]["details"]
    assert not Job.objects.exists()


def test_a_job_type_that_is_not_public_cannot_be_started(user_client):
    response = user_client.post("/api/v1/jobs/", {"type": "testapp.broken", "params": {}}, format="json")

    assert response.status_code == 400
    assert "type" in response.json()["error"]["details"]


@pytest.mark.parametrize("params, field", [({"seconds": -1}, "seconds"), ({"steps": "many"}, "steps"),
                                           ({"seconds": 601}, "seconds")])
def test_bad_params_are_400_on_the_param(user_client, params, field):
    response = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": params}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]["params"]
    assert not Job.objects.exists()


def test_params_that_are_not_an_object_are_400_on_params(user_client):
    response = user_client.post("/api/v1/jobs/", {"type": "jobs.probe", "params": [1, 2]}, format="json")

    assert response.status_code == 400
    assert "params" in response.json()["error"]["details"]


def test_a_viewer_cannot_start_a_job(viewer_client, handed_over):
    response = viewer_client.post("/api/v1/jobs/", {"type": "tasks.export", "params": {}}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert handed_over == []


def test_a_job_type_needs_its_own_scope_besides_jobs_write(user, tenant):
    key = api_key_create(user=user, name="jobs only", scopes=["jobs:read", "jobs:write", "tasks:read"],
                         allowed=role_scopes(user.role))
    client = TenantAPIClient(tenant=tenant).with_api_key(key.secret)

    response = client.post("/api/v1/jobs/", {"type": "tasks.import", "params": {"format": "csv", "content": "title\nx"}},
                           format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "tasks:write" in response.json()["error"]["message"]
    assert not Job.objects.exists()


def test_the_tenants_concurrent_job_limit_makes_the_next_job_a_conflict(user_client, tenant):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1)
    user_client.post("/api/v1/jobs/", PROBE, format="json")

    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "limit" in response.json()["error"]["message"]
    assert Job.objects.count() == 1


def test_finished_jobs_do_not_count_against_the_limit(user_client, tenant, finished_job):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1)

    response = user_client.post("/api/v1/jobs/", PROBE, format="json")

    assert response.status_code == 201


# --- types ------------------------------------------------------------------------------------------------


def test_job_types_lists_the_public_types_with_the_json_schema_of_their_params(viewer_client):
    response = viewer_client.get("/api/v1/jobs/types")

    assert response.status_code == 200
    types = {job_type["name"]: job_type for job_type in response.json()}
    assert {"jobs.probe", "tasks.export", "tasks.import"} <= set(types)
    assert "testapp.broken" not in types
    probe = types["jobs.probe"]
    assert probe["scope"] == "jobs:write"
    assert probe["params_schema"]["type"] == "object"
    assert set(probe["params_schema"]["properties"]) == {"seconds", "steps"}
    assert types["tasks.export"]["params_schema"]["properties"]["format"]["enum"] == ["csv", "json"]
    assert "content" in types["tasks.import"]["params_schema"]["required"]


# --- list, filters, stats -----------------------------------------------------------------------------------


@pytest.fixture
def mixed_jobs(user, tenant):
    now = timezone.now()
    return [
        make_job(user, tenant, status=Job.Status.SUCCEEDED, started_at=now - timezone.timedelta(seconds=4),
                 finished_at=now),
        make_job(user, tenant, status=Job.Status.FAILED, started_at=now - timezone.timedelta(seconds=2),
                 finished_at=now),
        make_job(user, tenant, type="tasks.export", status=Job.Status.QUEUED),
    ]


@pytest.mark.parametrize("query, expected", [("status=failed", 1), ("type=tasks.export", 1), ("type=jobs.probe", 2),
                                             ("status=succeeded&type=tasks.export", 0), ("", 3)])
def test_the_list_filters_by_status_and_type(user_client, mixed_jobs, second_user_job, query, expected):
    response = user_client.get(f"/api/v1/jobs/?{query}")

    assert response.status_code == 200
    assert response.json()["count"] == expected


def test_an_unknown_status_filter_is_400(user_client):
    response = user_client.get("/api/v1/jobs/?status=sleeping")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_stats_count_the_callers_jobs_by_status_and_type_with_the_mean_duration(user_client, mixed_jobs,
                                                                                 second_user_job, other_tenant_job):
    response = user_client.get("/api/v1/jobs/stats")

    assert response.status_code == 200
    assert response.json() == {
        "total": 3,
        "by_status": {"queued": 1, "running": 0, "succeeded": 1, "failed": 1, "cancelled": 0},
        "by_type": {"jobs.probe": 2, "tasks.export": 1},
        "mean_duration_seconds": 3.0,
    }


def test_stats_are_narrowed_by_the_list_filters(user_client, mixed_jobs):
    response = user_client.get("/api/v1/jobs/stats?type=tasks.export")

    assert response.json()["total"] == 1
    assert response.json()["mean_duration_seconds"] is None


def test_a_page_of_fifty_jobs_costs_the_same_queries_as_a_page_of_one(user_client, user, tenant,
                                                                       django_assert_num_queries):
    Job.objects.bulk_create([Job(tenant=tenant, created_by=user, type="jobs.probe") for _ in range(60)])
    user_client.get("/api/v1/jobs/?page_size=1")  # the first request caches who the caller is
    with CaptureQueriesContext(connection) as one_row:
        user_client.get("/api/v1/jobs/?page_size=1")

    with django_assert_num_queries(len(one_row)):
        response = user_client.get("/api/v1/jobs/?page_size=50")

    assert len(response.json()["results"]) == 50


# --- isolation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job_fixture", ["second_user_job", "other_tenant_job"])
@pytest.mark.parametrize("method, suffix", [("get", ""), ("get", "progress"), ("get", "file"), ("post", "cancel"),
                                            ("post", "retry"), ("delete", "")])
def test_someone_elses_job_is_not_found(request, user_client, job_fixture, method, suffix):
    job = request.getfixturevalue(job_fixture)

    response = getattr(user_client, method)(f"/api/v1/jobs/{job.pk}/{suffix}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_someone_elses_jobs_are_absent_from_lists_and_stats(user_client, second_user_job, other_tenant_job):
    listed = user_client.get("/api/v1/jobs/")
    stats = user_client.get("/api/v1/jobs/stats")

    assert listed.json()["count"] == 0
    assert CANARY not in listed.content.decode()
    assert stats.json()["total"] == 0


# --- actions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", Job.FINISHED)
def test_cancelling_a_finished_job_is_a_conflict(user_client, user, tenant, status):
    job = make_job(user, tenant, status=status)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Job.objects.get(pk=job.pk).status == status


def test_cancelling_a_queued_job_cancels_it_at_once(user_client, user, tenant):
    job = make_job(user, tenant)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Job.objects.get(pk=job.pk).finished_at is not None


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.SUCCEEDED])
def test_retrying_a_job_that_did_not_fail_or_was_not_cancelled_is_a_conflict(user_client, user, tenant, status):
    job = make_job(user, tenant, status=status)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_retrying_a_failed_job_queues_it_afresh(user_client, user, tenant, handed_over,
                                                django_capture_on_commit_callbacks):
    job = make_job(user, tenant, status=Job.Status.FAILED, error="boom", attempts=1, progress=60,
                   started_at=timezone.now(), finished_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"/api/v1/jobs/{job.pk}/retry")

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["progress"], body["error"], body["attempts"], body["finished_at"]) == (
        "queued", 0, "", 0, None)
    assert handed_over == [job.pk]


def test_retrying_beyond_the_tenants_limit_is_a_conflict(user_client, user, tenant):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1)
    make_job(user, tenant, status=Job.Status.RUNNING)
    failed = make_job(user, tenant, status=Job.Status.FAILED)

    response = user_client.post(f"/api/v1/jobs/{failed.pk}/retry")

    assert response.status_code == 409
    assert Job.objects.get(pk=failed.pk).status == Job.Status.FAILED


@pytest.mark.parametrize("status", Job.ACTIVE)
def test_deleting_an_active_job_is_a_conflict(user_client, user, tenant, status):
    job = make_job(user, tenant, status=status)

    response = user_client.delete(f"/api/v1/jobs/{job.pk}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Job.objects.filter(pk=job.pk).exists()


def test_deleting_a_finished_job_removes_it(user_client, finished_job):
    response = user_client.delete(f"/api/v1/jobs/{finished_job.pk}/")

    assert response.status_code == 204
    assert not Job.objects.filter(pk=finished_job.pk).exists()


def test_a_viewer_can_read_jobs_but_not_cancel_them(viewer_client, viewer, tenant):
    job = make_job(viewer, tenant)

    read = viewer_client.get(f"/api/v1/jobs/{job.pk}/")
    cancel = viewer_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert read.status_code == 200
    assert cancel.status_code == 403
    assert cancel.json()["error"]["code"] == "permission_denied"


# --- file and progress ---------------------------------------------------------------------------------------


def test_the_file_of_a_job_that_produced_none_is_not_found(user_client, finished_job):
    response = user_client.get(f"/api/v1/jobs/{finished_job.pk}/file")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_file_a_job_produced_downloads_as_an_attachment(user_client, finished_job):
    JobFile.objects.create(job=finished_job, name="tasks.csv", content_type="text/csv", content=b"id,title\n")

    response = user_client.get(f"/api/v1/jobs/{finished_job.pk}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="tasks.csv"'
    assert response.content == b"id,title\n"


def test_progress_of_a_queued_job_is_its_starting_point(user_client, user, tenant):
    job = make_job(user, tenant)

    response = user_client.get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 200
    assert response.json() == {"job_id": job.pk, "status": "queued", "progress": 0, "step": "", "message": "",
                               "logs": []}


def test_the_stale_job_reaper_is_scheduled_every_minute():
    schedule = Schedule.objects.get(name=REAPER_NAME)

    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "apps.jobs.services.jobs_reap_stale", Schedule.MINUTES, 1, -1)
