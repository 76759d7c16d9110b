"""`make bench-race`: Tessera's Task endpoints against three peers written by hand, one server at a time.

Every server runs 2 worker processes over the same PostgreSQL data (one tenant, one user, BENCH_TASKS tasks)
and accepts the same access token (HS256, same secret, same claims, the user looked up on every request):

  tessera (make serve)     the product exactly as `make serve` serves it (`python -m config.serve.production`:
                           migrate and collectstatic, nginx in front of granian for HTTP and uvicorn for
                           WebSockets, a django-q2 cluster beside them), every feature on: JWT, tenant and scopes,
                           rate limits counted in Redis (set too high to trigger), request ids, JSON request logs,
                           metrics. wrk plays the TLS-terminating load balancer in front of nginx
                           (X-Forwarded-Proto/-For, TRUSTED_PROXY_COUNT=2).
  tessera (granian alone)  the same app server without nginx (`python -m config.serve.wsgi`), wrk playing nginx
                           (TRUSTED_PROXY_COUNT=1): the difference between the two rows is the proxy's cost.
  tessera (uvicorn alone)  only when BENCH_SERVERS names tessera-uvicorn: the same settings under uvicorn
                           (`python -m config.serve`, ASGI), `make run`'s server, to weigh the server lever again.
  drf (gunicorn)           bench/peers/drf_peer: a bare ModelViewSet with simplejwt and PageNumberPagination.
  fastapi (uvicorn)        bench/peers/fastapi_peer: FastAPI + SQLAlchemy 2 async + asyncpg + pydantic.
  floor (granian)          bench/peers/floor: a plain Django view, raw SQL and orjson: the floor.

The generator's per-resource features of issue 14 that cost something on these endpoints (FEATURES: ETags, change
events; BENCH_FEATURES names others) are switched on the task resource through TESSERA_API["RESOURCES"] (the
API_RESOURCES variable), all on in every Tessera row, and all off in `tessera (make serve), features off`
(`tessera-off`): the ratio of the two rows is what they cost. Only the features this tree's generator knows are
switched (apps.api.conf.RESOURCE_OPTIONS), so the same script measures each as it arrives.

wrk (Debian's package) drives list (a 50-row page with its COUNT), detail and create at BENCH_CONNECTIONS
connections for BENCH_SECONDS each. Rounds are interleaved (every server in turn, BENCH_ROUNDS times), each
server is checked for correct answers (status and body) before it is timed and warmed up after, and the rows
a create run adds are deleted before the next run. Prints medians over rounds of req/s, p50 and p99, then
the req/s ratios Tessera / each peer. The peers run from bench/.venv-race (bench/requirements.txt); BENCH_SERVERS
picks rows by key (tessera, tessera-off, tessera-granian, tessera-uvicorn, drf, fastapi, floor), BENCH_ENDPOINTS
columns (list, detail, create).
"""
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database  # noqa: E402  (needs the project root on sys.path)

DATABASE_URL = os.environ.get("BENCH_RACE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_race")
REDIS_URL = os.environ.get("BENCH_RACE_REDIS_URL", "redis://127.0.0.1:6379/10")
PORT = int(os.environ.get("BENCH_PORT", "8766"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TASKS = int(os.environ.get("BENCH_TASKS", "10000"))
PYTHON = ROOT / ".venv" / "bin" / "python"
PEERS_BIN = ROOT / "bench" / ".venv-race" / "bin"
SIGNING_KEY = "bench-race-only-secret-key-long-enough-for-hs256-signing"
# Far above what 64 connections on this machine can send, so every limit is counted and none refuses.
UNREACHABLE_RATE = "100000000/m"
TASK_FIELDS = {"id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at"}
#: Tessera's tasks also say whether they are deleted (soft delete; the peers have no such column).
TESSERA_TASK_FIELDS = TASK_FIELDS | {"deleted_at"}
#: Per-resource options (TESSERA_API["RESOURCES"]) the Tessera rows switch on, and `tessera-off` off.
FEATURES = [name.strip() for name in os.environ.get("BENCH_FEATURES", "etags,events").split(",") if name.strip()]
CREATED_TITLE = "bench-race create"
CREATE_SCRIPT = ROOT / "bench" / "race_create.lua"
PATH = "/api/v1/tasks/"


def tessera_command(port: int) -> list[str]:
    """`make serve`'s command (Makefile), on the benchmark's port; WEB_CONCURRENCY is in its environment."""
    return [str(PYTHON), "-m", "config.serve.production", "--host", "127.0.0.1", "--port", str(port)]


def tessera_alone_command(module: str) -> Callable[[int], list[str]]:
    """One of the app servers `make serve` runs (or `make run`'s uvicorn), alone on the benchmark's port."""
    return lambda port: [str(PYTHON), "-m", module, "--host", "127.0.0.1", "--port", str(port),
                         "--workers", str(WORKERS), "--log-level", "warning"]


def tessera_environment(proxies: int = 1) -> dict:
    """Production settings (README), on the benchmark's database and Redis, with limits set out of reach, behind
    `proxies` proxies of our own (wrk plays the outermost, the TLS-terminating one)."""
    return {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false", "SECRET_KEY": SIGNING_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": "tessera-race", "SECURE_SSL_REDIRECT": "true", "SECURE_HSTS_PRELOAD": "true",
            "TRUSTED_PROXY_COUNT": str(proxies), "METRICS_TOKEN": "bench-race-metrics-token", "LOG_LEVEL": "INFO",
            "API_DEFAULT_THROTTLE": UNREACHABLE_RATE, "ACCESS_TOKEN_MINUTES": "600", "WEB_CONCURRENCY": str(WORKERS)}


def peer_environment(settings_module: str | None = None) -> dict:
    environment = {"DATABASE_URL": DATABASE_URL, "JWT_SIGNING_KEY": SIGNING_KEY, "PYTHONPATH": str(ROOT)}
    if settings_module:
        environment["DJANGO_SETTINGS_MODULE"] = settings_module
    return environment


@dataclass(frozen=True)
class Server:
    key: str  # what BENCH_SERVERS names it by
    name: str
    command: Callable[[int], list[str]]
    environment: dict
    default: bool = True  # run when BENCH_SERVERS is not set
    #: For Tessera rows: whether the task resource runs with the FEATURES on (True) or off (False).
    features: bool | None = None

    def full_environment(self) -> dict:
        if self.features is None:
            return self.environment
        return {**self.environment, "API_RESOURCES": json.dumps({"tasks": dict.fromkeys(known_features(),
                                                                                         self.features)})}


def known_features() -> list[str]:
    """The FEATURES this tree's generator can switch per resource (read once Django is set up, by `seed`)."""
    from apps.api.conf import RESOURCE_OPTIONS

    return [name for name in FEATURES if name in RESOURCE_OPTIONS]


SERVERS = [
    Server("tessera", "tessera (make serve)", tessera_command, tessera_environment(proxies=2), features=True),
    Server("tessera-off", "tessera (make serve), features off", tessera_command, tessera_environment(proxies=2),
           features=False),
    Server("tessera-granian", "tessera (granian alone)", tessera_alone_command("config.serve.wsgi"),
           tessera_environment(), features=True),
    Server("tessera-uvicorn", "tessera (uvicorn alone)", tessera_alone_command("config.serve"), tessera_environment(),
           default=False, features=True),
    Server("drf", "drf (gunicorn)", lambda port: [str(PEERS_BIN / "gunicorn"), "bench.peers.drf_peer.wsgi",
                                                  "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
           peer_environment("bench.peers.drf_peer.settings")),
    Server("fastapi", "fastapi (uvicorn)", lambda port: [str(PEERS_BIN / "uvicorn"), "bench.peers.fastapi_peer.main:app",
                                                         "--host", "127.0.0.1", "--port", str(port), "--workers",
                                                         str(WORKERS), "--no-access-log", "--log-level", "warning"],
           peer_environment()),
    Server("floor", "floor (granian)", lambda port: [str(PEERS_BIN / "granian"), "--interface", "wsgi", "--host",
                                                     "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
                                                     "--log-level", "warning",
                                                     # Granian's own advice for WSGI: cap the Python threads (each
                                                     # holds a persistent connection) instead of its default of 256.
                                                     "--backpressure", "16", "bench.peers.floor.wsgi:application"],
           peer_environment("bench.peers.floor.settings")),
]
#: BENCH_ENDPOINTS picks endpoints (list, detail, create), to time one feature's cost without the others.
ENDPOINTS = [name.strip() for name in os.environ.get("BENCH_ENDPOINTS", "list,detail,create").split(",")
             if name.strip()]
OFF_SUFFIX = ", features off"


@dataclass(frozen=True)
class Fixture:
    """What the seed made: the token every server accepts, the tenant, one task, and the last seeded id."""

    token: str
    tenant_id: int
    task_id: int
    task_title: str
    last_seeded_id: int

    def headers(self) -> dict:
        # The same for every server; X-Forwarded-* are what Tessera's TLS proxy would add (peers ignore them).
        return {"Authorization": f"Bearer {self.token}", "X-Tenant-ID": str(self.tenant_id),
                "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}

    def path(self, endpoint: str) -> str:
        return f"{PATH}{self.task_id}/" if endpoint == "detail" else PATH


def seed() -> Fixture:
    """Migrate, then one tenant, one user and TASKS tasks; every other task row is deleted."""
    os.environ.update(tessera_environment())
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.db import connection
    from apps.accounts.services import token_pair_issue

    from apps.accounts.models import User
    from apps.tasks.models import Task
    from apps.tenants.models import Membership, Tenant

    Task.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event CASCADE")  # the outbox of earlier runs (delete_created)
    tenant, _ = Tenant.objects.update_or_create(slug="race", defaults={"name": "Race", "is_active": True,
                                                                       "rate_limit": UNREACHABLE_RATE})
    user = User.objects.filter(email="race@tessera.local").first()
    if user is None:
        user = User.objects.create_user("race@tessera.local", "bench-race-password", role=User.Role.USER)
    Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": Membership.Role.OWNER})
    statuses, priorities = Task.Status.values, Task.Priority.values
    tasks = Task.objects.bulk_create(
        [Task(tenant=tenant, user=user, title=f"Task {n}", description=f"Seeded task {n}. " + "x" * 180,
              status=statuses[n % len(statuses)], priority=priorities[n % len(priorities)]) for n in range(TASKS)],
        batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tasks_task")  # planner statistics as a long-lived table has them
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this benchmark's own Redis database: counters start at zero
    return Fixture(token=token_pair_issue(user)["access"], tenant_id=tenant.pk, task_id=tasks[0].pk,
                   task_title=tasks[0].title, last_seeded_id=max(task.pk for task in tasks))


def delete_created(fixture: Fixture, settle_timeout: float = 30) -> None:
    """Back to the seeded rows and an empty outbox, so every run of every server lists and counts the same table,
    and relays from the same events table.

    Requests wrk sent just before it stopped are still being served (queued in a listen backlog, or in
    flight), so the rows are deleted once no new one has appeared for half a second. The change events the
    creates wrote go too: kept, their dead index entries (relayed rows, on a server without autovacuum) would
    make every later run's relay slower than the one before.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        deadline, previous = time.monotonic() + settle_timeout, None
        while time.monotonic() < deadline:
            cursor.execute("SELECT max(id) FROM tasks_task")
            newest = cursor.fetchone()[0]
            if newest == previous:
                break
            previous = newest
            time.sleep(0.5)
        cursor.execute("DELETE FROM tasks_task WHERE id > %s", [fixture.last_seeded_id])
        cursor.execute("VACUUM ANALYZE tasks_task")
        cursor.execute("TRUNCATE events_event CASCADE")


class ServerProcess:
    """One server in a session of its own, so stopping it stops its workers; its output goes to `log`."""

    def __init__(self, server: Server, log_dir: Path):
        self.server = server
        self.log = log_dir / (re.sub(r"\W+", "-", server.name).strip("-") + ".log")
        # This process took Tessera's settings to seed; a server gets only its own.
        inherited = set(tessera_environment()) | {"PYTHONPATH", "VIRTUAL_ENV"}
        environment = {key: value for key, value in os.environ.items() if key not in inherited}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(server.command(PORT), cwd=ROOT,
                                            env={**environment, **server.full_environment()},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_serving(self, fixture: Fixture, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail("exited while starting")
            try:
                request(fixture.path("list"), fixture.headers())
                return
            except OSError:
                time.sleep(0.2)
        self.fail("did not answer")

    def stop(self) -> None:
        """SIGTERM to the server's first process, which stops its own workers (and `make serve`'s supervisor its
        processes, in order, removing its run directory); SIGKILL to the whole session if that takes too long."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever the session still holds
        except ProcessLookupError:
            pass
        self.process.wait()
        wait_for_port_free()

    def fail(self, why: str):
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.server.name} {why}. The end of its output:\n{tail}")


def wait_for_port_free(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", PORT)) != 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"Port {PORT} is still in use.")


def request(path: str, headers: dict, method: str = "GET", body: bytes | None = None,
            with_headers: bool = False) -> tuple:
    """(status, the JSON body or its first bytes), and the answer's headers (lower-case names) `with_headers`."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        connection.request(method, path, body=body, headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        content = json.loads(raw)
    except ValueError:
        content = raw[:200]
    if with_headers:
        return response.status, content, {name.lower(): value for name, value in response.getheaders()}
    return response.status, content


def verify(server: ServerProcess, fixture: Fixture) -> None:
    """Correct answers before any timing, so a fast error page cannot win."""
    headers = fixture.headers()
    fields = TESSERA_TASK_FIELDS if server.server.key.startswith("tessera") else TASK_FIELDS
    checks = []
    status, page = request(PATH, headers)
    checks.append((f"list is 200 with a full first page of the {TASKS} seeded tasks (got {status}, "
                   f"count {page.get('count') if isinstance(page, dict) else page!r})",
                   status == 200 and isinstance(page, dict)
                   and page.get("count") == TASKS and len(page.get("results", [])) == 50
                   and all(set(row) == fields for row in page["results"])))
    status, task, answer_headers = request(fixture.path("detail"), headers, with_headers=True)
    checks.append((f"detail is 200 with the task (got {status})", status == 200 and isinstance(task, dict)
                   and task.get("id") == fixture.task_id and task.get("title") == fixture.task_title))
    if server.server.features is not None and "etags" in known_features():
        has_etag = answer_headers.get("etag") is not None
        checks.append((f"detail has an ETag exactly when ETags are on (on: {server.server.features})",
                       has_etag == server.server.features))
    status, created = request(PATH, headers, "POST", create_body())
    checks.append((f"create is 201 with the new task (got {status})", status == 201 and isinstance(created, dict)
                   and isinstance(created.get("id"), int) and created["id"] > fixture.last_seeded_id
                   and created.get("title") == CREATED_TITLE and created.get("status") == "pending"))
    status, _ = request(PATH, {key: value for key, value in headers.items() if key != "Authorization"})
    checks.append((f"list without a token is 401 (got {status})", status == 401))
    delete_created(fixture)
    failed = [name for name, passed in checks if not passed]
    if failed:
        server.fail("answered wrongly: " + "; ".join(failed))


def create_body() -> bytes:
    return json.dumps({"title": CREATED_TITLE, "priority": "high"}).encode()


def wrk(fixture: Fixture, endpoint: str, seconds: int) -> dict:
    """One wrk run; req/s, p50 and p99 in milliseconds. Any non-2xx/3xx answer fails the benchmark."""
    command = ["wrk", "--threads", "2", "--connections", str(CONNECTIONS), "--duration", f"{seconds}s",
               "--timeout", "10s", "--latency"]
    for name, value in fixture.headers().items():
        command += ["--header", f"{name}: {value}"]
    if endpoint == "create":
        command += ["--script", str(CREATE_SCRIPT)]
    output = subprocess.run(command + [f"http://127.0.0.1:{PORT}{fixture.path(endpoint)}"], check=True,
                            capture_output=True, text=True,
                            env={**os.environ, "BENCH_CREATE_BODY": create_body().decode()}).stdout
    if endpoint == "create":
        delete_created(fixture)
    rejected = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if rejected:
        raise SystemExit(f"{endpoint}: {rejected.group(1)} answers were not 2xx:\n{output}")
    errors = re.search(r"Socket errors: (.*)", output)
    if errors:
        print(f"    {endpoint}: socket errors: {errors.group(1)}")
    return {"req/s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": milliseconds(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
            "p99": milliseconds(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1))}


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def main():
    wanted = [key.strip() for key in os.environ.get("BENCH_SERVERS", "").split(",") if key.strip()]
    servers = [server for server in SERVERS if server.key in wanted or not wanted and server.default]
    create_database(DATABASE_URL)
    fixture = seed()
    wait_for_port_free()
    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-race-") as log_dir:
        for round_number in range(1, ROUNDS + 1):
            for server in servers:
                print(f"round {round_number}/{ROUNDS}: {server.name}", flush=True)
                process = ServerProcess(server, Path(log_dir))
                try:
                    process.wait_until_serving(fixture)
                    verify(process, fixture)
                    for endpoint in ENDPOINTS:
                        wrk(fixture, endpoint, WARMUP_SECONDS)
                    for endpoint in ENDPOINTS:
                        results.setdefault((server.name, endpoint), []).append(wrk(fixture, endpoint, SECONDS))
                finally:
                    process.stop()
    report(results, [server.name for server in servers])


def report(results: dict, names: list[str]) -> None:
    print(f"\nFeatures on in the Tessera rows: {', '.join(known_features()) or 'none'}")
    print(f"Task API on PostgreSQL, {WORKERS} worker processes per server, wrk at {CONNECTIONS} connections, "
          f"{TASKS} tasks, medians of {ROUNDS} round(s) of {SECONDS} s per endpoint\n")
    print(f"{'':<36}" + "".join(f"{endpoint:^27}" for endpoint in ENDPOINTS))
    print(f"{'server':<36}" + f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}" * len(ENDPOINTS))
    medians = {}
    for name in names:
        line = f"{name:<36}"
        for endpoint in ENDPOINTS:
            runs = results[(name, endpoint)]
            medians[(name, endpoint)] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            figures = medians[(name, endpoint)]
            line += f"{figures['req/s']:>9.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
        print(line)
    off = [name for name in names if name.endswith(OFF_SUFFIX)]
    tesseras = [name for name in names if name.startswith("tessera") and name not in off]
    peers = [name for name in names if not name.startswith("tessera")]
    # Each Tessera row against each peer, `make serve` against its app servers alone (the proxy's cost), and against
    # itself with the features off (what they cost).
    pairs = [(tessera, peer) for tessera in tesseras for peer in peers] + [(tesseras[0], alone) for alone in tesseras[1:]]
    pairs += [(name.removesuffix(OFF_SUFFIX), name) for name in off if name.removesuffix(OFF_SUFFIX) in names]
    if pairs:
        width = max(48, *(len(f"{tessera} / {other}") + 2 for tessera, other in pairs))
        print(f"\n{'req/s ratio':<{width}}" + "".join(f"{endpoint:>9}" for endpoint in ENDPOINTS))
        for tessera, other in pairs:
            print(f"{tessera + ' / ' + other:<{width}}" + "".join(
                f"{medians[(tessera, endpoint)]['req/s'] / medians[(other, endpoint)]['req/s']:>9.2f}"
                for endpoint in ENDPOINTS))


if __name__ == "__main__":
    main()
