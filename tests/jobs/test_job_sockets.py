"""Who may watch which job over /ws/jobs/{id}/ and /ws/jobs/: the API's own authentication and scoping.

Socket tests commit their rows (`transactional_db`): consumers read the database from a thread of their own.
"""
import time
from datetime import timedelta

import pytest

from apps.accounts.scopes import role_scopes
from apps.accounts.services import api_key_create
from apps.accounts.testing import TenantAPIClient
from apps.audit.models import AuditLog
from apps.jobs import events
from apps.jobs.models import Job
from apps.tenants.models import Membership

from .conftest import Socket, access_token

pytestmark = pytest.mark.usefixtures("transactional_db")

NOT_AUTHENTICATED, NOT_A_MEMBER, NOT_FOUND = 4401, 4403, 4404


def make_job(user, tenant, **fields) -> Job:
    return Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", **fields)


@pytest.fixture
def job(user, tenant):
    return make_job(user, tenant, status=Job.Status.RUNNING, progress=40, step="step 2 of 5")


@pytest.fixture
def credentials(request):
    """Socket keyword arguments for a persona, by name."""

    def credentials_of(persona: str) -> dict:
        if persona == "anonymous":
            return {}
        if persona == "bad token":
            return {"token": "not-a-jwt"}
        return {"token": access_token(request.getfixturevalue(persona))}

    return credentials_of


@pytest.mark.parametrize("persona, expected_code", [
    ("anonymous", NOT_AUTHENTICATED),
    ("bad token", NOT_AUTHENTICATED),
    ("second_user", NOT_FOUND),  # same tenant, not the owner
    ("viewer", NOT_FOUND),
    ("other_user", NOT_FOUND),  # another tenant
    ("user", None),
])
def test_only_the_owner_may_watch_a_job(credentials, job, persona, expected_code):
    with Socket(f"/ws/jobs/{job.pk}/", **credentials(persona)) as socket:
        code = socket.close_code()

    assert code == expected_code


@pytest.mark.parametrize("persona, expected_code", [("anonymous", NOT_AUTHENTICATED), ("bad token", NOT_AUTHENTICATED)])
def test_the_all_jobs_socket_refuses_callers_who_are_not_authenticated(credentials, user, persona, expected_code):
    with Socket("/ws/jobs/", **credentials(persona)) as socket:
        code = socket.close_code()

    assert code == expected_code


def test_the_owner_first_receives_the_jobs_current_state(user, job):
    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user)) as socket:
        message = socket.receive()

    assert message["type"] == "job.progress"
    assert (message["job_id"], message["status"], message["progress"], message["step"]) == (
        job.pk, "running", 40, "step 2 of 5")


def test_a_job_that_does_not_exist_is_not_found(user, job):
    with Socket(f"/ws/jobs/{job.pk + 1000}/", token=access_token(user)) as socket:
        code = socket.close_code()

    assert code == NOT_FOUND


@pytest.mark.parametrize("how", ["query", "header"])
def test_naming_a_tenant_the_caller_is_not_a_member_of_is_refused(user, job, other_tenant, how):
    where = {"query": f"tenant={other_tenant.pk}"} if how == "query" else {
        "headers": {"X-Tenant-ID": str(other_tenant.pk)}}

    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user), **where) as socket:
        code = socket.close_code()

    assert code == NOT_A_MEMBER


def test_a_socket_naming_another_tenant_is_audited_as_the_api_audits_it(user, job, other_tenant):
    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user), query=f"tenant={other_tenant.pk}") as socket:
        assert socket.close_code() == NOT_A_MEMBER

    attempt = AuditLog.objects.get(event=AuditLog.Event.CROSS_TENANT_ATTEMPT)
    assert (attempt.actor, attempt.tenant, attempt.path) == (user, other_tenant, f"/ws/jobs/{job.pk}/")


def test_a_job_of_another_tenant_of_the_same_user_is_not_found_in_the_active_tenant(user, other_tenant):
    Membership.objects.create(tenant=other_tenant, user=user)
    elsewhere = make_job(user, other_tenant)

    with Socket(f"/ws/jobs/{elsewhere.pk}/", token=access_token(user)) as socket:  # default tenant: `tenant`
        code = socket.close_code()

    assert code == NOT_FOUND


def test_an_api_key_in_the_x_api_key_header_may_watch_its_owners_job(user, job):
    key = api_key_create(user=user, name="watcher", scopes=["jobs:read"], allowed=role_scopes(user.role))

    with Socket(f"/ws/jobs/{job.pk}/", headers={"X-API-Key": key.secret}) as socket:
        message = socket.receive()

    assert message["job_id"] == job.pk


def test_an_api_key_without_jobs_read_may_not_watch(user, job):
    key = api_key_create(user=user, name="tasks only", scopes=["tasks:read"], allowed=role_scopes(user.role))

    with Socket(f"/ws/jobs/{job.pk}/", headers={"X-API-Key": key.secret}) as socket:
        code = socket.close_code()

    assert code == NOT_FOUND


def test_a_bearer_token_in_the_authorization_header_is_accepted(user, job):
    with Socket(f"/ws/jobs/{job.pk}/", headers={"Authorization": f"Bearer {access_token(user)}"}) as socket:
        message = socket.receive()

    assert message["job_id"] == job.pk


def test_the_all_jobs_socket_receives_the_events_of_the_callers_jobs_only(user, second_user, other_user, tenant,
                                                                         other_tenant):
    mine = make_job(user, tenant, status=Job.Status.RUNNING, progress=10)
    colleagues = make_job(second_user, tenant, status=Job.Status.RUNNING, progress=20)
    foreign = make_job(other_user, other_tenant, status=Job.Status.RUNNING, progress=30)

    with Socket("/ws/jobs/", token=access_token(user)) as socket:
        for job in (colleagues, foreign, mine):
            events.publish(job)
        received = socket.receive()
        nothing_else = socket.nothing_received()

    assert (received["job_id"], received["progress"]) == (mine.pk, 10)
    assert nothing_else


def test_an_access_token_in_the_bearer_subprotocol_is_accepted_with_that_protocol_alone(user, job):
    with Socket(f"/ws/jobs/{job.pk}/", subprotocols=["tessera.bearer", access_token(user)]) as socket:
        message = socket.receive()

    assert message["job_id"] == job.pk
    assert socket.subprotocol == "tessera.bearer"


def test_a_bad_token_in_the_bearer_subprotocol_is_refused(job):
    with Socket(f"/ws/jobs/{job.pk}/", subprotocols=["tessera.bearer", "not-a-jwt"]) as socket:
        code = socket.close_code()

    assert (code, socket.subprotocol) == (NOT_AUTHENTICATED, "tessera.bearer")


def socket_ticket(client) -> str:
    response = client.post("/api/v1/auth/ws-ticket")
    assert response.status_code == 201, response.content
    return response.json()["ticket"]


def test_a_ticket_lets_one_socket_in_once(user_client, job):
    ticket = socket_ticket(user_client)

    with Socket(f"/ws/jobs/{job.pk}/", query=f"ticket={ticket}") as socket:
        message = socket.receive()
    with Socket(f"/ws/jobs/{job.pk}/", query=f"ticket={ticket}") as socket:
        second_code = socket.close_code()

    assert message["job_id"] == job.pk
    assert second_code == NOT_AUTHENTICATED


def test_an_expired_ticket_is_refused(user_client, job, settings):
    settings.TESSERA_ACCOUNTS = {**settings.TESSERA_ACCOUNTS, "SOCKET_TICKET_SECONDS": 1}
    ticket = socket_ticket(user_client)
    time.sleep(1.5)

    with Socket(f"/ws/jobs/{job.pk}/", query=f"ticket={ticket}") as socket:
        code = socket.close_code()

    assert code == NOT_AUTHENTICATED


def test_a_ticket_asked_for_with_an_api_key_carries_the_keys_scopes(user, tenant, job):
    key = api_key_create(user=user, name="tasks only", scopes=["tasks:read"], allowed=role_scopes(user.role))
    ticket = socket_ticket(TenantAPIClient(tenant=tenant).with_api_key(key.secret))

    with Socket(f"/ws/jobs/{job.pk}/", query=f"ticket={ticket}") as socket:
        code = socket.close_code()

    assert code == NOT_FOUND


def test_a_ticket_does_not_open_the_operators_socket(admin_client, job):
    ticket = socket_ticket(admin_client)

    with Socket(f"/ws/admin/jobs/{job.pk}/", query=f"ticket={ticket}") as socket:
        code = socket.close_code()

    assert code == NOT_AUTHENTICATED


def test_forwarding_a_jobs_messages_costs_the_socket_no_database_work(user, job, monkeypatch):
    """Channels closes stale database connections before every message it dispatches, on its one sync thread; these
    sockets read the database only through database_sync_to_async, which does that around each read itself, so
    forwarding a message does none of it (each hop made every progress message wait its turn on that thread)."""
    import channels.db

    closings = []
    close_old_connections = channels.db.close_old_connections
    monkeypatch.setattr(channels.db, "close_old_connections", lambda: closings.append(1) or close_old_connections())

    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user)) as socket:
        socket.receive()  # the job as it is: read from the database on connect
        closings.clear()
        for progress in (50, 60, 70):
            job.progress = progress
            events.publish(job)
        received = [socket.receive()["progress"] for _ in range(3)]
        closings_while_forwarding = len(closings)  # closing the socket closes them once more, as it should

    assert received == [50, 60, 70]
    assert closings_while_forwarding == 0


def test_a_message_older_than_what_the_socket_read_is_left_out(user, job):
    """A worker sends its reports while it goes on, so a report can still be on its way when a socket reads the job
    from the table: sent after the newer state, it would move the job's progress back."""
    newer_report = Job.objects.get(pk=job.pk)
    older_report = Job.objects.get(pk=job.pk)
    older_report.progress, older_report.updated_at = 10, job.updated_at - timedelta(seconds=1)
    newer_report.progress, newer_report.updated_at = 60, job.updated_at + timedelta(seconds=1)

    with Socket(f"/ws/jobs/{job.pk}/", token=access_token(user)) as socket:
        as_read = socket.receive()
        events.publish(older_report)
        events.publish(newer_report)
        after = socket.receive()
        nothing_else = socket.nothing_received()

    assert as_read["progress"] == 40
    assert after["progress"] == 60
    assert nothing_else
