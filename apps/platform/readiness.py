"""Readiness: can this process serve traffic? Each dependency is checked for real, all at once, with a deadline."""
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

#: Seconds the whole check may take; a dependency that has not answered by then counts as down.
DEADLINE = 3.0


def database_answers() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # runs in a worker thread: give the connection back rather than strand it


def cache_answers() -> None:
    key = f"readiness:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)


def channel_layer_answers() -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "readiness.ping"})
    if async_to_sync(layer.receive)(channel)["type"] != "readiness.ping":
        raise RuntimeError("the channel layer did not deliver the message")


#: name -> check; each raises when its dependency is not usable. Other apps add theirs (the job queue).
CHECKS = {"database": database_answers, "cache": cache_answers, "channel_layer": channel_layer_answers}


def register_check(name: str, check: Callable[[], None]) -> None:
    CHECKS[name] = check


def readiness_report(checks: dict = CHECKS) -> dict[str, str]:
    """{name: "ok" or a short reason}; reasons name the failure's kind only, never hosts or credentials."""
    pool = ThreadPoolExecutor(max_workers=len(checks))
    futures = {name: pool.submit(check) for name, check in checks.items()}
    wait(futures.values(), timeout=DEADLINE)
    pool.shutdown(wait=False, cancel_futures=True)
    report = {}
    for name, future in futures.items():
        if not future.done():
            report[name] = f"no answer within {DEADLINE:g} s"
        elif future.exception() is not None:
            report[name] = f"unreachable ({type(future.exception()).__name__})"
        else:
            report[name] = "ok"
    return report
