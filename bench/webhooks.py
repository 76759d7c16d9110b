"""`make bench-webhooks`: a burst of change events delivered as signed webhooks to a local receiver.

On the jobs bench's database and Redis (bench/jobs.py: BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_JOB_WORKERS),
it starts `manage.py qcluster`, a receiver (a threaded HTTP server on 127.0.0.1 that verifies every signature
with the Standard Webhooks reference implementation) and a tenant subscribed to `tasks.*` at it. Then, per round,
BENCH_EVENTS `tasks.created` events are recorded in one transaction (the outbox INSERTs a burst of writes makes),
and the time runs from the commit to the last delivery recorded as received: the relay, the deliveries' creation,
the queue, signing, the POSTs and their records. The database then confirms every delivery succeeded, once.
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")  # the receiver is on this machine

from bench.common import create_database  # noqa: E402
from bench.jobs import (DATABASE_URL, WAIT_SECONDS, WORKERS, Processes, seed,  # noqa: E402
                        stop_on_signals)

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


class Receiver:
    """Counts verified deliveries, and refuses (401) any whose signature does not verify."""

    def __init__(self):
        self.verified, self.refused = 0, 0
        self.lock, self.webhook = threading.Lock(), None
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy would answer

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    state.webhook.verify(body, dict(self.headers))
                    status = 204
                except Exception:
                    status = 401
                with state.lock:
                    state.verified += status == 204
                    state.refused += status == 401
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify_with(self, secret: str) -> None:
        from standardwebhooks.webhooks import Webhook

        self.webhook = Webhook(secret)



def all_finished(total: int, processes: Processes) -> float:
    """Wait until `total` deliveries exist and none is pending; returns when the last one finished."""
    from django.db.models import Max

    from apps.webhooks.models import WebhookDelivery

    deadline = time.monotonic() + WAIT_SECONDS
    while (WebhookDelivery.objects.count() < total
           or WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()):
        if time.monotonic() > deadline:
            raise SystemExit(f"Timed out waiting for {total} deliveries; qcluster said:\n{processes.tail('qcluster')}")
        processes.check_alive()
        time.sleep(0.1)
    return WebhookDelivery.objects.aggregate(last=Max("finished_at"))["last"].timestamp()


def burst(tenant, count: int) -> float:
    """Record `count` events in one transaction; returns the time of the commit."""
    from django.db import transaction

    from apps.events.services import event_record

    with transaction.atomic():
        for number in range(count):
            event_record(type="tasks.created", resource="tasks", tenant_id=tenant.pk, owner_id=None,
                         data={"id": number, "title": f"Task {number}", "status": "pending"})
    return time.time()


def main():
    stop_on_signals()
    create_database(DATABASE_URL)
    user, tenant, _ = seed()
    from apps.events.models import Event
    from apps.webhooks.models import WebhookDelivery, WebhookSubscription
    from apps.webhooks.services import subscription_create

    Event.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    receiver = Receiver()
    subscription = subscription_create(tenant=tenant, created_by=user, url=receiver.url, name="bench",
                                       events=["tasks.*"])
    receiver.verify_with(subscription.secret_once)  # the database keeps it encrypted
    processes = Processes()
    results = []
    try:
        processes.start("qcluster", [sys.executable, "manage.py", "qcluster"])
        burst(tenant, WORKERS * 10)  # warm-up: every worker has imported the code and holds its connections
        all_finished(WORKERS * 10, processes)
        for number in range(1, ROUNDS + 1):
            committed = burst(tenant, EVENTS)
            last = all_finished(WORKERS * 10 + number * EVENTS, processes)
            results.append({"events": EVENTS, "elapsed": last - committed})
    except KeyboardInterrupt:
        print("\nInterrupted; stopping the cluster.", file=sys.stderr)
        raise SystemExit(130)
    finally:
        processes.stop()
        receiver.server.shutdown()
    total = (WORKERS * 10) + ROUNDS * EVENTS
    delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED).count()
    if receiver.refused or delivered != total:
        raise SystemExit(f"{receiver.refused} signatures did not verify; {delivered} of {total} deliveries succeeded.")
    print(f"\nWebhook deliveries: {ROUNDS} bursts of {EVENTS} tasks.created events (one transaction each), one "
          f"subscription, django-q2 cluster of {WORKERS} workers, a local receiver verifying every signature\n")
    print(f"{'round':<8}{'events':>8}{'seconds':>9}{'deliveries/s':>14}")
    for number, result in enumerate(results, 1):
        print(f"{number:<8}{result['events']:>8}{result['elapsed']:>9.2f}{result['events'] / result['elapsed']:>14.1f}")
    print(f"{'all':<8}{sum(r['events'] for r in results):>8}{sum(r['elapsed'] for r in results):>9.2f}"
          f"{sum(r['events'] for r in results) / sum(r['elapsed'] for r in results):>14.1f}")
    print(f"  from the burst's commit to the last delivery recorded as received (goal: >= 200 deliveries/s); the "
          f"receiver verified {receiver.verified} requests (retries included)\n")


if __name__ == "__main__":
    main()
