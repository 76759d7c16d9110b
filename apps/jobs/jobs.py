"""Job types of the engine itself."""
import time

from rest_framework import serializers

from .registry import register


class ProbeParams(serializers.Serializer):
    seconds = serializers.FloatField(min_value=0, max_value=600, default=0)
    steps = serializers.IntegerField(min_value=1, max_value=1000, default=1)


@register("jobs.probe", params=ProbeParams, scope="jobs:write")
def run_probe(params, progress):
    """Check the workers end to end: wait `seconds` in `steps` equal steps, reporting progress after each.
    Cancelling stops it at the next step."""
    pause = params["seconds"] / params["steps"]
    for step in range(1, params["steps"] + 1):
        finish_at = time.monotonic() + pause
        while (left := finish_at - time.monotonic()) > 0:
            progress.raise_if_stopped()  # a cancel lands within a fraction of a second, even mid-step
            time.sleep(min(left, 0.2))
        progress(step * 100 / params["steps"], step=f"step {step} of {params['steps']}",
                 message=f"Finished step {step}")
    return {"steps": params["steps"], "seconds": params["seconds"]}
