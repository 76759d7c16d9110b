"""The job-type registry: apps declare job types in their jobs.py, discovered the way api.py is."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules
from rest_framework import serializers


#: A job function: `function(params, progress)`, returning the job's JSON result.
JobFunction = Callable[..., Any]


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


class JobRegistry:
    def __init__(self) -> None:
        self._registry: dict[str, JobType] = {}
        #: Declarations whose name was taken already; the first one stands, and check jobs.E002 reports these.
        self.duplicates: list[JobType] = []

    def register(self, name: str, *, params: type[serializers.Serializer], scope: str | None = None,
                 public: bool = True, timeout: int = 600, max_attempts: int = 1
                 ) -> Callable[[JobFunction], JobFunction]:
        """Decorator declaring `function(params, progress)` as the job type `name`.

        `scope` is what a caller needs to start it through POST /jobs/ (public types only); `timeout` is in
        seconds; failures raising `RetryableError` are retried up to `max_attempts` runs in all, with backoff.
        """

        def decorator(function: JobFunction) -> JobFunction:
            job_type = JobType(name=name, params=params, scope=scope, function=function, public=public,
                               timeout=timeout, max_attempts=max_attempts,
                               description=(getattr(function, "__doc__", None) or "").strip())
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
