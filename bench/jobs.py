"""`make bench-jobs`: background jobs end to end, on a real django-q2 cluster and a real WebSocket server.

Its own PostgreSQL database and Redis database (broker, channel layer and cache alike) hold everything it
touches. It starts `manage.py qcluster` with JOB_WORKERS workers and uvicorn, then measures:

- throughput: N `jobs.probe` jobs (seconds=0, steps=1) queued one after another through
  `services.job_enqueue`, timed from the first enqueue to the last `job.finished` message on a /ws/jobs/
  socket (the database then confirms all N succeeded);
- the same through bare django-q2, in the same run on the same cluster and broker: N `async_task(bare_noop)`
  calls, timed from the first to the N-th run (each run counts itself in Redis, the least a task can do to be
  seen done); rounds alternate with Tessera's, so both meet the same load, and the ratio is printed;
- progress latency: one probe reporting progress many times a second, watched on /ws/jobs/{id}/. Each
  report writes a JobLog row whose `created_at` the worker stamps at the start of `progress()` (Python's
  clock, the same machine as the client), so a message's latency is its arrival time minus that stamp:
  the log and job writes, two group sends, Redis, the consumer and the socket.

Prints both tables with the configuration, and stops its processes on exit, Ctrl-C included.
"""
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database  # noqa: E402  (needs the project root on sys.path)
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_bench_jobs")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PORT = int(os.environ.get("BENCH_PORT", "8766"))
WORKERS = int(os.environ.get("BENCH_JOB_WORKERS", "2"))
JOBS_PER_ROUND = int(os.environ.get("BENCH_JOBS", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PROGRESS_STEPS = int(os.environ.get("BENCH_PROGRESS_STEPS", "500"))
PROGRESS_SECONDS = float(os.environ.get("BENCH_PROGRESS_SECONDS", "5"))
WAIT_SECONDS = 120  # for any one phase: a stuck cluster ends the run with its log, not a hang


def server_environment() -> dict:
    return {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "DEBUG": "false",
            "SECRET_KEY": "benchmark-only-secret-key-long-enough-for-hs256", "ACCESS_TOKEN_MINUTES": "60",
            "JOB_WORKERS": str(WORKERS), "DJANGO_SETTINGS_MODULE": "config.settings"}



def seed():
    """Migrate, empty the queue and the job tables, then a user owning a tenant with no practical job limit.

    Returns (user, tenant, access token)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # a queue left by an interrupted run would be worked off first
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=server_environment(), check=True)
    os.environ.update(server_environment())
    import django

    django.setup()
    import logging

    logging.getLogger("django-q").setLevel(logging.WARNING)  # one "Enqueued" line per job would bury the table
    from django.db import connection
    from django_q.models import OrmQ, Task
    from apps.accounts.services import token_pair_issue

    from apps.accounts.models import User
    from apps.jobs.models import Job
    from apps.tenants.models import Membership, Tenant
    from apps.tenants.services import tenant_policies_set

    Job.objects.all().delete()
    Task.objects.all().delete()
    OrmQ.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event CASCADE")  # the jobs' change events: each run relays from an empty outbox
    tenant, _ = Tenant.objects.update_or_create(slug="bench", defaults={"name": "Bench"})
    tenant_policies_set(tenant=tenant, max_concurrent_jobs=1_000_000)
    user, _ = User.objects.get_or_create(email="bench@tessera.local")
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": Membership.Role.OWNER})
    return user, tenant, token_pair_issue(user)["access"]


class Processes:
    """The cluster and the server, each in a session of its own so stopping one stops its children too
    (qcluster forks its workers). Their output goes to log files, shown if a phase fails."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="tessera-bench-jobs-"))
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]):
        log = open(self.directory / f"{name}.log", "wb")
        self.running[name] = subprocess.Popen(command, cwd=ROOT, env=server_environment(), stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def check_alive(self):
        for name, process in self.running.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        return "\n".join((self.directory / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        """SIGTERM to each process group (qcluster finishes its tasks and stops), SIGKILL after 15 s; then the
        logs go too (a failure has already quoted them). Further Ctrl-Cs are ignored: the wait is bounded."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_processes(processes: Processes):
    processes.start("qcluster", [sys.executable, "manage.py", "qcluster"])
    processes.start("uvicorn", [sys.executable, "-m", "config.serve", "--port", str(PORT), "--log-level", "warning"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"The benchmark server did not start:\n{processes.tail('uvicorn')}")


class Socket:
    """A WebSocket client on a thread and event loop of its own, so message arrival is stamped (time.time())
    the moment it is read, whatever the main thread is doing."""

    def __init__(self, path: str, token: str, tenant_id: int):
        import websockets.asyncio.client

        self._connect = websockets.asyncio.client.connect
        self.url = f"ws://127.0.0.1:{PORT}{path}?tenant={tenant_id}"
        self.subprotocols = ["tessera.bearer", token]  # how a client sends its token (apps/jobs/socket_auth.py)
        self.messages: list[tuple[float, dict]] = []
        self._changed = threading.Condition()
        self._connected = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._listen(),), daemon=True)
        self._thread.start()
        if not self._connected.wait(10):
            raise SystemExit(f"Could not open {path}: {self._error!r}")

    async def _listen(self):
        try:
            async with self._connect(self.url, subprotocols=self.subprotocols) as socket:
                self._loop, self._socket = asyncio.get_running_loop(), socket
                self._connected.set()
                async for raw in socket:
                    received = time.time()
                    with self._changed:
                        self.messages.append((received, json.loads(raw)))
                        self._changed.notify_all()
        except Exception as error:  # reported by the waiting side
            self._error = error
        finally:
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, done, processes: Processes) -> None:
        """Until `done(messages)` is true; fails with the cluster's log after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            while not done(self.messages):
                if self._error or not self._thread.is_alive():
                    raise SystemExit(f"The socket closed: {self._error!r}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"Timed out waiting for job messages; qcluster said:\n"
                                     f"{processes.tail('qcluster')}")
                self._changed.wait(1)
                processes.check_alive()

    def close(self):
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._socket.close(), self._loop).result(5)
        self._thread.join(5)


def finished_ids(messages) -> set[int]:
    return {message["job_id"] for _, message in messages if message["type"] == "job.finished"}


def bare_noop(counter: str) -> None:
    """The baseline task: nothing but a count in Redis, so the bench sees it done."""
    import redis

    redis.Redis.from_url(REDIS_URL).incr(counter)


def measure_bare(count: int, processes: Processes) -> dict:
    """`count` bare django-q2 tasks queued one by one, timed from the first enqueue to the last run."""
    import redis
    from django_q.tasks import async_task

    store, counter = redis.Redis.from_url(REDIS_URL), f"bench-bare-{time.monotonic_ns()}"
    started = time.time()
    for _ in range(count):
        async_task("bench.jobs.bare_noop", counter)
    enqueued = time.time()
    deadline = time.monotonic() + WAIT_SECONDS
    while int(store.get(counter) or 0) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"Timed out waiting for bare tasks; qcluster said:\n{processes.tail('qcluster')}")
        processes.check_alive()
        time.sleep(0.002)
    return {"jobs": count, "enqueue": enqueued - started, "elapsed": time.time() - started}


def measure_throughput(user, tenant, token, processes: Processes) -> tuple[list[dict], list[dict]]:
    from apps.jobs.models import Job
    from apps.jobs.services import job_enqueue

    def enqueue(count: int) -> list[int]:
        return [job_enqueue("jobs.probe", {"seconds": 0, "steps": 1}, tenant=tenant, created_by=user).pk
                for _ in range(count)]

    def watching() -> Socket:
        """A /ws/jobs/ socket whose group subscription is proven live (it sends nothing on connect) by warm-up
        jobs, which also make every worker import the job code and hold database connections. Each round opens
        its own: a socket left idle through a bare round can lose its channel layer read (close code 4503)."""
        socket = Socket("/ws/jobs/", token, tenant.pk)
        warm = set(enqueue(WORKERS * 2))
        socket.wait_for(lambda messages: warm <= finished_ids(messages), processes)
        socket.messages.clear()
        return socket

    measure_bare(WORKERS * 5, processes)
    rounds, bare = [], []
    for _ in range(ROUNDS):
        bare.append(measure_bare(JOBS_PER_ROUND, processes))
        socket = watching()
        try:
            started = time.time()
            ids = enqueue(JOBS_PER_ROUND)
            enqueued = time.time()
            socket.wait_for(lambda messages: set(ids) <= finished_ids(messages), processes)
        finally:
            socket.close()
        last = max(received for received, message in socket.messages
                   if message["type"] == "job.finished" and message["job_id"] in ids)
        jobs = list(Job.objects.filter(pk__in=ids).values_list("status", "queued_at", "started_at", "finished_at"))
        failed = [status for status, *_ in jobs if status != Job.Status.SUCCEEDED]
        if failed:
            raise SystemExit(f"{len(failed)} probe jobs did not succeed: {sorted(set(failed))}")
        rounds.append({"jobs": len(ids), "enqueue": enqueued - started, "elapsed": last - started,
                       "waits": [(begun - queued).total_seconds() for _, queued, begun, _ in jobs],
                       "runs": [(done - begun).total_seconds() for _, _, begun, done in jobs]})
    return rounds, bare


def measure_latency(user, tenant, token, processes: Processes) -> dict:
    """One probe reporting PROGRESS_STEPS times over PROGRESS_SECONDS, watched on its own socket.

    The socket can only open once the job is committed, so the first few reports may pass before it
    subscribes; the first message is the job's state at connect time, not a report, and is left out."""
    from apps.jobs.models import JobLog
    from apps.jobs.services import job_enqueue

    job = job_enqueue("jobs.probe", {"seconds": PROGRESS_SECONDS, "steps": PROGRESS_STEPS}, tenant=tenant,
                      created_by=user)
    socket = Socket(f"/ws/jobs/{job.pk}/", token, tenant.pk)
    try:
        socket.wait_for(lambda messages: job.pk in finished_ids(messages), processes)
    finally:
        socket.close()
    job.refresh_from_db()
    if job.status != job.Status.SUCCEEDED:
        raise SystemExit(f"The progress probe ended {job.status}: {job.error}")
    reported_at = {step: created.timestamp() for step, created in
                   JobLog.objects.filter(job=job).values_list("step", "created_at")}
    latencies = [received - reported_at[message["step"]] for received, message in socket.messages[1:]
                 if message["type"] == "job.progress" and message["step"] in reported_at]
    return {"reports": len(reported_at), "latencies": latencies}


def stop_on_signals():
    """SIGTERM and SIGHUP unwind like Ctrl-C, so the `finally` that stops the processes runs for them too.
    SIGINT is set as well: a shell starts background commands with it ignored, and Python keeps that."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def main():
    stop_on_signals()
    create_database(DATABASE_URL)
    user, tenant, token = seed()
    processes = Processes()
    try:
        start_processes(processes)
        rounds, bare = measure_throughput(user, tenant, token, processes)
        latency = measure_latency(user, tenant, token, processes)
    except KeyboardInterrupt:
        print("\nInterrupted; stopping the cluster and the server.", file=sys.stderr)
        raise SystemExit(130)
    finally:
        processes.stop()
    report(rounds, bare, latency)


def milliseconds(values: list[float], quantile: int) -> float:
    return statistics.quantiles(values, n=100)[quantile - 1] * 1000


def report(rounds: list[dict], bare: list[dict], latency: dict):
    print(f"\nBackground jobs on PostgreSQL, Redis broker and channel layer, django-q2 cluster of {WORKERS} "
          f"workers, uvicorn WebSockets with a JWT\n")
    print(f"Throughput: {ROUNDS} x {JOBS_PER_ROUND} jobs.probe (seconds=0, steps=1) queued one by one through "
          f"job_enqueue, timed to the last job.finished on /ws/jobs/")
    print(f"{'round':<8}{'jobs':>6}{'enqueue/s':>11}{'jobs/s':>9}{'wait p50 ms':>13}{'wait p99 ms':>13}"
          f"{'run p50 ms':>12}{'run p99 ms':>12}")
    for number, result in enumerate(rounds, 1):
        print(f"{number:<8}{result['jobs']:>6}{result['jobs'] / result['enqueue']:>11.0f}"
              f"{result['jobs'] / result['elapsed']:>9.1f}{milliseconds(result['waits'], 50):>13.1f}"
              f"{milliseconds(result['waits'], 99):>13.1f}{milliseconds(result['runs'], 50):>12.1f}"
              f"{milliseconds(result['runs'], 99):>12.1f}")
    jobs, elapsed = sum(r["jobs"] for r in rounds), sum(r["elapsed"] for r in rounds)
    print(f"{'all':<8}{jobs:>6}{jobs / sum(r['enqueue'] for r in rounds):>11.0f}{jobs / elapsed:>9.1f}\n")
    print("  wait: queued_at to started_at (time in the queue); run: started_at to finished_at (claim to end).\n")

    print(f"The same through bare django-q2 on the same cluster and broker, rounds alternating with the above: "
          f"{ROUNDS} x {JOBS_PER_ROUND} async_task(bare_noop)")
    print(f"{'round':<8}{'tasks':>6}{'enqueue/s':>11}{'tasks/s':>9}")
    for number, result in enumerate(bare, 1):
        print(f"{number:<8}{result['jobs']:>6}{result['jobs'] / result['enqueue']:>11.0f}"
              f"{result['jobs'] / result['elapsed']:>9.1f}")
    bare_rate = sum(r["jobs"] for r in bare) / sum(r["elapsed"] for r in bare)
    print(f"{'all':<8}{sum(r['jobs'] for r in bare):>6}{'':>11}{bare_rate:>9.1f}\n")
    print(f"Tessera jobs / bare django-q2: {jobs / elapsed / bare_rate:.2f}x (goal >= 0.7)\n")

    values = latency["latencies"]
    print(f"Progress report to WebSocket message: one jobs.probe (seconds={PROGRESS_SECONDS:g}, "
          f"steps={PROGRESS_STEPS}) watched on /ws/jobs/{{id}}/")
    print(f"{'reports':>8}{'received':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    print(f"{latency['reports']:>8}{len(values):>10}{milliseconds(values, 50):>9.2f}{milliseconds(values, 90):>9.2f}"
          f"{milliseconds(values, 99):>9.2f}{max(values) * 1000:>9.2f}")
    print("  from the JobLog created_at stamped in the worker's progress() to arrival at the client; reports "
          "made before the socket subscribed are not received.")


if __name__ == "__main__":
    main()
