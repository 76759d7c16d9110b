"""The operator console for jobs: the list, the read-only change page with its live bar, cancel and retry."""
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from apps.jobs.models import Job, JobFile, JobLog
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jobs/job/"


def make_job(tenant, user, **fields) -> Job:
    return Job.objects.create(tenant=tenant, created_by=user, type=fields.pop("type", "jobs.probe"), **fields)


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def running_job(tenant, user):
    return make_job(tenant, user, status=Job.Status.RUNNING, progress=40, step="step 2 of 5")


@pytest.fixture
def failed_job(other_tenant, other_user):
    return make_job(other_tenant, other_user, type="tasks.export", status=Job.Status.FAILED, progress=30,
                    error="ValueError: the export broke")


def run_action(client, action: str, *jobs):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [job.pk for job in jobs]}, follow=True)


def test_the_list_shows_every_tenant_s_jobs_with_progress_timings_and_errors(staff_client, running_job, failed_job):
    response = staff_client.get(CHANGELIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert "jobs.probe" in page and "tasks.export" in page
    assert '<progress value="40" max="100"></progress> 40%' in page
    assert "ValueError: the export broke" in page
    assert "user@example.com" in page and "other@example.com" in page
    for column in ("Queued at", "Started at", "Finished at", "Duration", "Tenant", "Created by"):
        assert column in page


def listed_types(response) -> list[str]:
    return [job.type for job in response.context["cl"].result_list]


@pytest.mark.parametrize("query, listed", [
    ("status__exact=failed", ["tasks.export"]),
    ("type=jobs.probe", ["jobs.probe"]),
    ("q=other@example.com", ["tasks.export"]),
    ("q=export", ["tasks.export"]),
    ("q=no-such-job", []),
])
def test_the_list_filters_by_status_and_type_and_searches(staff_client, running_job, failed_job, query, listed):
    response = staff_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code == 200
    assert listed_types(response) == listed


def test_the_list_finds_a_job_by_its_id(staff_client, running_job, failed_job):
    response = staff_client.get(f"{CHANGELIST}?q={failed_job.pk}")

    assert listed_types(response) == ["tasks.export"]


def test_the_change_page_shows_a_bar_that_follows_the_operator_socket(staff_client, running_job):
    JobLog.objects.create(job=running_job, progress=40, message="Finished step 2")

    response = staff_client.get(f"{CHANGELIST}{running_job.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="job-bar"' in page and 'id="job-bar-fill" style="width: 40%"' in page
    assert f'"/ws/admin/jobs/{running_job.pk}/"' in page
    assert "Finished step 2" in page


def test_a_finished_job_s_page_opens_no_socket(staff_client, failed_job):
    page = staff_client.get(f"{CHANGELIST}{failed_job.pk}/change/").content.decode()

    assert 'id="job-bar"' in page
    assert "/ws/admin/jobs/" not in page
    assert "ValueError: the export broke" in page


def test_the_change_page_is_read_only(staff_client, running_job):
    page = staff_client.get(f"{CHANGELIST}{running_job.pk}/change/").content.decode()
    response = staff_client.post(f"{CHANGELIST}{running_job.pk}/change/", {"status": "succeeded", "progress": 100})

    assert 'name="status"' not in page
    assert response.status_code == 403
    running_job.refresh_from_db()
    assert running_job.status == Job.Status.RUNNING


def test_jobs_cannot_be_added_or_deleted_in_the_admin(staff_client, running_job):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_client.get(f"{CHANGELIST}{running_job.pk}/delete/").status_code == 403


def test_cancel_asks_a_running_job_to_stop_and_cancels_a_queued_one(staff_client, tenant, user, running_job):
    queued = make_job(tenant, user, status=Job.Status.QUEUED)

    response = run_action(staff_client, "cancel_selected", running_job, queued)

    assert "2 jobs cancelled or asked to stop." in response.content.decode()
    running_job.refresh_from_db()
    queued.refresh_from_db()
    assert running_job.cancel_requested and running_job.status == Job.Status.RUNNING
    assert queued.status == Job.Status.CANCELLED


def test_cancelling_a_finished_job_is_a_message_not_an_error(staff_client, running_job, failed_job):
    response = run_action(staff_client, "cancel_selected", running_job, failed_job)

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Job #{failed_job.pk} (tasks.export): A failed job cannot be cancelled." in page
    assert "1 job cancelled or asked to stop." in page
    failed_job.refresh_from_db()
    assert failed_job.status == Job.Status.FAILED


def test_retry_queues_a_failed_job_again(staff_client, failed_job):
    response = run_action(staff_client, "retry_selected", failed_job)

    assert "1 job queued again." in response.content.decode()
    failed_job.refresh_from_db()
    assert (failed_job.status, failed_job.progress, failed_job.error) == (Job.Status.QUEUED, 0, "")


def test_retrying_a_running_job_is_a_message_not_an_error(staff_client, running_job):
    response = run_action(staff_client, "retry_selected", running_job)

    assert response.status_code == 200
    assert f"Job #{running_job.pk} (jobs.probe): A running job cannot be retried" in response.content.decode()
    running_job.refresh_from_db()
    assert running_job.status == Job.Status.RUNNING


def test_staff_who_may_only_view_jobs_get_no_actions(client, running_job):
    viewer = make_user("ops-viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    response = run_action(client, "cancel_selected", running_job)

    assert "Cancel selected jobs" not in page
    assert response.status_code == 200
    running_job.refresh_from_db()
    assert not running_job.cancel_requested


def test_the_produced_file_is_listed_without_its_bytes(staff_client, failed_job):
    JobFile.objects.create(job=failed_job, name="tasks.csv", content_type="text/csv",
                           content=b"title\nFILE-BYTES-5c1e\n")

    page = staff_client.get(f"{CHANGELIST}{failed_job.pk}/change/").content.decode()

    assert "tasks.csv" in page and "text/csv" in page
    assert "22 bytes" in page
    assert "FILE-BYTES-5c1e" not in page


def test_the_pages_carry_no_credential(staff_client, running_job):
    pages = [staff_client.get(CHANGELIST).content.decode(),
             staff_client.get(f"{CHANGELIST}{running_job.pk}/change/").content.decode()]

    for page in pages:
        assert "token=" not in page
        assert staff_client.session.session_key not in page
        assert settings.SECRET_KEY not in page


def test_people_who_are_not_staff_are_sent_to_the_admin_sign_in(client, user, running_job):
    client.force_login(user)

    response = client.get(f"{CHANGELIST}{running_job.pk}/change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
