"""The job-type registry: apps declare job types in their jobs.py, discovered the way api.py is."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import autodiscover_modules
from rest_framework import serializers

if TYPE_CHECKING:
    from .models import Job


#: A job function: `function(params, progress)`, returning the job's JSON result.
JobFunction = Callable[..., Any]
#: A job type's `on_end(job)`: told the job's final outcome (succeeded, failed or cancelled), however it ended.
OnEnd = Callable[["Job"], None]


@dataclass(frozen=True)
class JobType:
    """A kind of background work: its name, the params it accepts, the scope needed to start it, the function."""

    name: str
    params: type[serializers.Serializer]
    scope: str | None
    function: JobFunction
    public: bool = True
    timeout: int = 600
    max_attempts: int = 1
    description: str = ""
    on_end: OnEnd | None = None


class JobRegistry:
    def __init__(self) -> None:
        self._registry: dict[str, JobType] = {}
        #: Declarations whose name was taken already; the first one stands, and check jobs.E002 reports these.
        self.duplicates: list[JobType] = []

    def register(self, name: str, *, params: type[serializers.Serializer], scope: str | None = None,
                 public: bool = True, timeout: int = 600, max_attempts: int = 1, on_end: OnEnd | None = None
                 ) -> Callable[[JobFunction], JobFunction]:
        """Decorator declaring `function(params, progress)` as the job type `name`.

        `scope` is what a caller needs to start it through POST /jobs/ (public types only); `timeout` is in
        seconds; failures raising `RetryableError` are retried up to `max_attempts` runs in all, with backoff.

        `on_end(job)` is how the app that started a job learns its outcome, however the job ended: its function
        returned or raised, it was cancelled before a worker took it, the reaper failed it after its worker died,
        or the queue could not take it. It is called once per end (a job run again by `retry` ends again), from
        the one place a job's status becomes final (`services._finish`), in the transaction that writes it and
        with the job's row locked: the owner's row changes with the job's, or neither does. It gets the job as it
        ended (`status`, `error`, `result`) and must find its own row by the job (a newer run may have replaced
        it). A service that locks both rows locks the job's first (`services.job_lock`), as this order does.
        """

        def decorator(function: JobFunction) -> JobFunction:
            job_type = JobType(name=name, params=params, scope=scope, function=function, public=public,
                               timeout=timeout, max_attempts=max_attempts,
                               description=(getattr(function, "__doc__", None) or "").strip(), on_end=on_end)
            if name in self._registry:
                self.duplicates.append(job_type)
            else:
                self._registry[name] = job_type
            return function

        return decorator

    def get(self, name: str) -> JobType | None:
        return self._registry.get(name)

    def public_types(self) -> list[JobType]:
        return sorted((t for t in self._registry.values() if t.public), key=lambda t: t.name)

    def all(self) -> list[JobType]:
        return sorted(self._registry.values(), key=lambda t: t.name)


registry = JobRegistry()
register = registry.register


def autodiscover() -> None:
    autodiscover_modules("jobs", register_to=registry)
