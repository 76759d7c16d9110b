"""Job types that exist only in tests, to exercise the runner's rules (retries, failures, timeouts, on_end)."""
import time

from rest_framework import serializers

from apps import jobs

from .models import Note


class FlakyParams(serializers.Serializer):
    failures = serializers.IntegerField(min_value=0, default=1)


@jobs.register("testapp.flaky", params=FlakyParams, scope="notes:write", max_attempts=3)
def run_flaky(params, progress):
    """Fails with a retryable error on its first `failures` attempts, then succeeds."""
    if progress.job.attempts <= params["failures"]:
        raise jobs.RetryableError(f"transient failure on attempt {progress.job.attempts}")
    progress(100, step="done")
    return {"attempts": progress.job.attempts}


@jobs.register("testapp.broken", params=serializers.Serializer, public=False)
def run_broken(params, progress):
    """A bug: fails with an ordinary exception, which is never retried."""
    raise ZeroDivisionError("division by zero")


@jobs.register("testapp.slow", params=serializers.Serializer, public=False, timeout=1)
def run_slow(params, progress):
    """Reports progress forever; only its one-second timeout stops it."""
    while True:
        progress(message="still going")


class WatchedParams(serializers.Serializer):
    seconds = serializers.FloatField(min_value=0, default=0)
    fail = serializers.BooleanField(default=False)
    break_on_end = serializers.BooleanField(default=False)


def note_the_end(job):
    """on_end of testapp.watched: a note in the job's tenant says how the job ended, so a test sees the owner was
    told, once. With `break_on_end` it writes its note and then fails, as an owner's bug would."""
    Note.objects.create(tenant_id=job.tenant_id, author_id=job.created_by_id,
                        body=f"job {job.pk} ended {job.status}: {job.error}"[:200])
    if job.params.get("break_on_end"):
        raise RuntimeError("the owner's bug")


@jobs.register("testapp.watched", params=WatchedParams, scope="notes:write", max_attempts=2, on_end=note_the_end)
def run_watched(params, progress):
    """Waits `seconds` (a cancel stops it), then succeeds, or fails when `fail`; its on_end notes how it ended."""
    deadline = time.monotonic() + params["seconds"]
    while time.monotonic() < deadline:
        progress.raise_if_stopped()
        time.sleep(0.05)
    if params["fail"]:
        raise ValueError("asked to fail")
    return {"waited": params["seconds"]}
