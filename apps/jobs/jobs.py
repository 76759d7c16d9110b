"""Job types of the engine itself."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from .registry import register

if TYPE_CHECKING:
    from .progress import Progress


class ProbeParams(serializers.Serializer):
    seconds = serializers.FloatField(min_value=0, max_value=600, default=0)
    steps = serializers.IntegerField(min_value=1, max_value=1000, default=1)


@register("jobs.probe", params=ProbeParams, scope="jobs:write")
def run_probe(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
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
