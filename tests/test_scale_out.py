"""Tessera scales out: two web processes and two worker clusters over one PostgreSQL and one Redis act as one.

Every piece of state that must add up across processes lives in the shared services, never in a process: rate-limit
counters and request metrics in Redis, job claims in PostgreSQL (a row lock), WebSocket groups in the Redis
channel layer. So these tests run the project as a scaled-out deployment runs it: two real servers
(`python -m config.serve`, A and B) and two real django-q2 clusters (the session's and a second one with the same
environment, competing for the same queue), and show that clients cannot tell them apart.
"""
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from apps.accounts.services import token_pair_issue
from apps.jobs.models import Job, JobLog
from apps.tenants.services import tenant_policies_set
from tests.servers import running_servers
from tests.workers import WorkerCluster, cluster_environment, scaled_out_environment, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

#: API_ANON_THROTTLE of both servers: per day, so the run cannot straddle the end of a counting window.
ANONYMOUS_LIMIT = 6
METRICS_TOKEN = "scale-out-metrics-token"
JOBS = 20


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """Web servers A and B, started once for the module, on the test database and the tests' Redis."""
    environment = scaled_out_environment(API_ANON_THROTTLE=f"{ANONYMOUS_LIMIT}/d", METRICS_TOKEN=METRICS_TOKEN)
    with running_servers(environment) as started:
        yield started


@pytest.fixture(scope="module")
def clusters(worker_cluster, migration_root):
    """The session's worker cluster and a second one with the same environment, on the same queue."""
    second = WorkerCluster(cluster_environment(migration_root), log_path=migration_root / "second-worker-cluster.log")
    try:
        yield [worker_cluster, second]
    finally:
        second.stop()


@pytest.fixture
def bearer(user, tenant):
    """Headers of `user` in `tenant`, good on either server (both verify with the same SECRET_KEY)."""
    return {"Authorization": f"Bearer {token_pair_issue(user)['access']}", "X-Tenant-ID": str(tenant.pk),
            "Content-Type": "application/json"}


def start_probe(server, bearer: dict, **params) -> int:
    status, _, body = server.request("POST", "/api/v1/jobs/", body=json.dumps(
        {"type": "jobs.probe", "params": params}).encode(), headers=bearer)
    assert status == 201, body
    return json.loads(body)["id"]


def worker_pids(cluster: WorkerCluster) -> set[int]:
    """The worker processes the cluster reports now (django-q2's cluster status, kept in Redis)."""
    from django_q.status import Stat

    return {pid for stat in Stat.get_all() if stat.pid == cluster.process.pid for pid in stat.workers}


def requests_counted(server, route: str) -> float:
    """tessera_http_requests_total of GET `route` answered 200, as `server`'s /metrics reports it."""
    status, _, body = server.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200, body
    (family,) = [family for family in text_string_to_metric_families(body.decode())
                 if family.name == "tessera_http_requests"]
    return sum(sample.value for sample in family.samples
               if sample.labels == {"method": "GET", "route": route, "status": "200"})


def test_a_rate_limit_counts_the_requests_of_every_server_together(servers):
    a, b = servers

    statuses = [(a, b)[number % 2].request("GET", "/api/v1/auth/me")[0] for number in range(ANONYMOUS_LIMIT + 1)]

    assert statuses == [401] * ANONYMOUS_LIMIT + [429]  # half the limit on each server, yet the limit in total
    assert [server.request("GET", "/api/v1/auth/me")[0] for server in servers] == [429, 429]


def test_each_job_created_through_either_server_runs_exactly_once_and_both_clusters_take_some(
        servers, clusters, workers, tenant, bearer):
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=JOBS)

    ids = [start_probe(servers[number % 2], bearer, seconds=0.2) for number in range(JOBS)]
    wait_for(lambda: Job.objects.filter(pk__in=ids, status__in=Job.FINISHED).count() == JOBS, timeout=30,
             what=f"the {JOBS} jobs to finish")

    jobs = Job.objects.filter(pk__in=ids)
    assert {job.status for job in jobs} == {Job.Status.SUCCEEDED}
    assert {job.attempts for job in jobs} == {1}  # claimed once each
    assert sorted(JobLog.objects.filter(job__in=ids).values_list("job_id", flat=True)) == sorted(ids)  # ran once
    ran_by = [{job.pk for job in jobs if job.worker_pid in worker_pids(cluster)} for cluster in clusters]
    assert ran_by[0] | ran_by[1] == set(ids) and not ran_by[0] & ran_by[1]
    assert all(ran_by), f"one cluster ran every job: {[len(part) for part in ran_by]}"


def test_a_socket_on_one_server_hears_a_job_created_through_the_other(servers, clusters, workers, user, tenant,
                                                                       bearer):
    a, b = servers
    access = bearer["Authorization"].removeprefix("Bearer ")

    with connect(f"ws://127.0.0.1:{a.port}/ws/jobs/?tenant={tenant.pk}", open_timeout=10,
                 subprotocols=["tessera.bearer", access]) as socket:  # open once subscribed to the owner's group
        job_id = start_probe(b, bearer, seconds=0.3, steps=3)
        messages = [json.loads(socket.recv(timeout=15))]
        while messages[-1]["type"] != "job.finished":
            messages.append(json.loads(socket.recv(timeout=15)))

    assert {message["job_id"] for message in messages} == {job_id}
    assert [(message["type"], message["progress"]) for message in messages] == [
        ("job.progress", 0), ("job.progress", 33), ("job.progress", 66), ("job.progress", 100),
        ("job.finished", 100)]
    assert messages[-1]["status"] == Job.Status.SUCCEEDED


def test_metrics_read_from_one_server_count_the_requests_of_both(servers, bearer):
    a, b = servers
    before = requests_counted(a, "auth-me")

    for server, times in ((a, 3), (b, 4)):
        for _ in range(times):
            assert server.request("GET", "/api/v1/auth/me", headers=bearer)[0] == 200
    # Each server adds its counts to Redis every metrics.FLUSH_SECONDS, off the request path.
    wait_for(lambda: requests_counted(a, "auth-me") - before >= 3 + 4, timeout=10, what="B's counts to reach Redis")

    assert requests_counted(a, "auth-me") - before == 3 + 4
