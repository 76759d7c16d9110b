"""Job types that exist only in tests, to exercise the runner's rules (retries, failures, timeouts)."""
from rest_framework import serializers

from apps import jobs


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
