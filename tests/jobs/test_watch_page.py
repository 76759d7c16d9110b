"""/jobs/{id}/watch: who may open it, and what the server renders before the socket takes over."""
import pytest
from django.conf import settings

from apps.jobs.models import Job, JobLog
from apps.tenants.models import Membership
from tests.conftest import CANARY

pytestmark = pytest.mark.django_db


def make_job(tenant, user, **fields) -> Job:
    return Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", **fields)


@pytest.fixture
def running_job(tenant, user):
    return make_job(tenant, user, status=Job.Status.RUNNING, progress=40, step="step 2 of 5", message="Finished step 2")


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, running_job):
    response = client.get(f"/jobs/{running_job.pk}/watch")

    assert response.status_code == 302
    assert response["Location"] == f"/api-auth/login/?next=/jobs/{running_job.pk}/watch"


def test_the_sign_in_page_accepts_a_member_who_is_not_staff(client, user, running_job):
    from tests.conftest import PASSWORD

    response = client.post("/api-auth/login/", {"username": user.email, "password": PASSWORD,
                                                "next": f"/jobs/{running_job.pk}/watch"}, follow=True)

    assert response.redirect_chain[-1] == (f"/jobs/{running_job.pk}/watch", 302)
    assert response.status_code == 200


def test_the_owner_sees_the_current_state_and_the_socket_to_follow(client, user, running_job):
    JobLog.objects.create(job=running_job, progress=20, step="step 1 of 5", message="Finished step 1")
    JobLog.objects.create(job=running_job, progress=40, step="step 2 of 5", message="Finished step 2")
    client.force_login(user)

    response = client.get(f"/jobs/{running_job.pk}/watch")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="job-type">jobs.probe<' in page
    assert 'data-status="running">running<' in page
    assert 'style="width: 40%"' in page and 'id="job-progress">40%<' in page
    assert 'id="job-step">step 2 of 5<' in page
    assert page.index("Finished step 1") < page.index("Finished step 2")
    assert f"/ws/jobs/{running_job.pk}/?tenant={running_job.tenant_id}" in page
    assert "new WebSocket" in page


def test_a_finished_job_is_rendered_whole_by_the_server_without_a_socket(client, user, tenant):
    job = make_job(tenant, user, status=Job.Status.FAILED, progress=60, step="step 3 of 5",
                   error="ValueError: the source went away")
    JobLog.objects.create(job=job, level=JobLog.Level.ERROR, progress=60, message="Gave up on step 3")
    client.force_login(user)

    page = client.get(f"/jobs/{job.pk}/watch").content.decode()

    assert 'data-status="failed">failed<' in page
    assert 'id="job-progress">60%<' in page
    assert "ValueError: the source went away" in page
    assert '<li class="error">Gave up on step 3</li>' in page
    assert "new WebSocket" not in page
    assert "This job has finished." in page


def test_text_from_the_job_is_escaped(client, user, tenant):
    job = make_job(tenant, user, status=Job.Status.SUCCEEDED, progress=100, step="<script>alert(1)</script>")
    client.force_login(user)

    page = client.get(f"/jobs/{job.pk}/watch").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("job_owner", ["second_user", "other_user"])
def test_a_job_the_api_would_not_show_is_not_found(request, client, user, job_owner):
    owner = request.getfixturevalue(job_owner)
    job = make_job(owner.memberships.get().tenant, owner, status=Job.Status.RUNNING, step=f"secret {CANARY}")
    client.force_login(user)

    response = client.get(f"/jobs/{job.pk}/watch")

    assert response.status_code == 404
    assert CANARY not in response.content.decode()


def test_a_job_that_does_not_exist_is_not_found(client, user):
    client.force_login(user)

    assert client.get("/jobs/999999/watch").status_code == 404


def test_a_member_who_left_the_tenant_no_longer_sees_their_job(client, user, tenant, running_job):
    Membership.objects.filter(user=user, tenant=tenant).delete()
    client.force_login(user)

    assert client.get(f"/jobs/{running_job.pk}/watch").status_code == 404


def test_a_viewer_member_sees_their_own_job_in_that_tenant(client, mixed_user, tenant):
    job = make_job(tenant, mixed_user, status=Job.Status.QUEUED)
    client.force_login(mixed_user)

    response = client.get(f"/jobs/{job.pk}/watch")

    assert response.status_code == 200
    assert f"?tenant={tenant.pk}" in response.content.decode()


def test_the_page_carries_no_credential(client, user, running_job):
    client.force_login(user)

    page = client.get(f"/jobs/{running_job.pk}/watch").content.decode()

    assert "token=" not in page
    assert client.session.session_key not in page
    assert settings.SECRET_KEY not in page
