"""`make bench`: the generated Task endpoints against a hand-written DRF ModelViewSet, served side by side.

One uvicorn process serves both on PostgreSQL; the client authenticates with a JWT, lists 50-row pages,
reads one task and creates tasks. Rounds alternate between the two implementations so drift on a
shared machine hits both alike. Prints requests/second, p50 and p99 per endpoint, and the ratio
generated / hand-written (above 1.0: the generator costs nothing).
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database  # noqa: E402  (needs the project root on sys.path)
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_bench")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
REQUESTS_PER_ROUND = int(os.environ.get("BENCH_REQUESTS", "400"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
IMPLEMENTATIONS = {"generated": "/api/v1/tasks/", "hand-written": "/bench/handwritten/tasks/"}


def server_environment() -> dict:
    environment = {**os.environ, "DATABASE_URL": DATABASE_URL, "DEBUG": "false",
                   "SECRET_KEY": "benchmark-only-secret-key-long-enough-for-hs256", "ACCESS_TOKEN_MINUTES": "60",
                   "API_DEFAULT_THROTTLE": "", "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment.pop("REDIS_URL", None)  # both sides share the same local-memory cache
    return environment



def seed() -> tuple[str, int, int]:
    """Migrate, then a user with 60 tasks in one tenant; returns an access token, the tenant and one task id."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=server_environment(), check=True)
    os.environ.update(server_environment())
    import django

    django.setup()
    from apps.accounts.services import token_pair_issue

    from apps.accounts.models import User
    from apps.tasks.models import Task
    from apps.tenants.models import Membership, Tenant

    Task.objects.all().delete()
    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user, _ = User.objects.get_or_create(email="bench@tessera.local")
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": Membership.Role.OWNER})
    tasks = Task.objects.bulk_create([Task(tenant=tenant, user=user, title=f"Task {n}", description="x" * 200,
                                           priority=Task.Priority.values[n % 4]) for n in range(60)])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give a long-lived table
    return token_pair_issue(user)["access"], tenant.pk, tasks[0].pk


def start_server() -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "bench.asgi:application", "--port", str(PORT), "--log-level",
         "warning"], cwd=ROOT, env=server_environment())
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/health")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("The benchmark server did not start.")


def run_load(method: str, path: str, headers: dict, body: bytes | None, expected: int) -> tuple[float, list[float]]:
    """REQUESTS_PER_ROUND requests over CONCURRENCY keep-alive connections; returns (seconds, latencies)."""
    latencies, failures = [], []
    lock = threading.Lock()
    per_thread = REQUESTS_PER_ROUND // CONCURRENCY

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        for _ in range(per_thread):
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != expected:
                failures.append(response.status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{method} {path}: unexpected statuses {sorted(set(failures))}")
    return elapsed, latencies


def main():
    create_database(DATABASE_URL)
    token, tenant_id, task_id = seed()
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-ID": str(tenant_id), "Content-Type": "application/json"}
    body = json.dumps({"title": "Benchmarked", "priority": "high"}).encode()
    endpoints = {
        "list (50 rows)": ("GET", "?page_size=50", None, 200),
        "detail": ("GET", f"{task_id}/", None, 200),
        "create": ("POST", "", body, 201),
    }
    server = start_server()
    try:
        for implementation, prefix in IMPLEMENTATIONS.items():  # warm both up
            run_load("GET", prefix, headers, None, 200)
        results = {}
        for _ in range(ROUNDS):
            for endpoint, (method, suffix, payload, expected) in endpoints.items():
                for implementation, prefix in IMPLEMENTATIONS.items():
                    elapsed, latencies = run_load(method, prefix + suffix, headers, payload, expected)
                    totals = results.setdefault((endpoint, implementation), [0.0, []])
                    totals[0] += elapsed
                    totals[1].extend(latencies)
    finally:
        server.terminate()
        server.wait()
    report(results, list(endpoints))


def report(results: dict, endpoints: list[str]):
    print(f"\nTask API on PostgreSQL, JWT auth, {CONCURRENCY} connections, {ROUNDS} x {REQUESTS_PER_ROUND} requests "
          f"per endpoint and implementation\n")
    print(f"{'endpoint':<16}{'implementation':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for endpoint in endpoints:
        rates = {}
        for implementation in IMPLEMENTATIONS:
            elapsed, latencies = results[(endpoint, implementation)]
            rates[implementation] = len(latencies) / elapsed
            quantiles = statistics.quantiles(latencies, n=100)
            print(f"{endpoint:<16}{implementation:<15}{rates[implementation]:>9.0f}"
                  f"{quantiles[49] * 1000:>9.2f}{quantiles[98] * 1000:>9.2f}")
        print(f"{'':<16}{'ratio':<15}{rates['generated'] / rates['hand-written']:>9.2f}\n")


if __name__ == "__main__":
    main()
