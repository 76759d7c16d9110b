"""The adapter contract. Every adapter is a class registered by `type`; the engine drives it through these
methods only, so files and databases (and sites composed of both) move through one lifecycle.

A transfer reports through a `progress` callable and must call it at least every second or so, because
that is where a cancel request lands (it raises apps.jobs.JobCancelled) and how the watcher sees motion:

    progress(done_items=..., total_items=..., done_bytes=..., total_bytes=..., step="copying users",
             message=None)
"""
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rest_framework import serializers

from .confinement import Confinement


class StrictSerializer(serializers.Serializer):
    """A config serializer that refuses keys it does not declare (an error on each), instead of dropping them: a
    typo is told, and nothing unvalidated is stored."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:

        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


@dataclass
class Check:
    """One line of a validation report. `error` severity blocks the start; `warning` does not."""

    name: str
    passed: bool
    message: str
    severity: str = "error"


@dataclass
class Measurement:
    items: int          # files, or rows over all tables
    bytes: int
    details: dict = field(default_factory=dict)   # e.g. {"tables": {"users": 120}}


@dataclass
class TransferReport:
    items_copied: int = 0
    items_skipped: int = 0   # already identical at the destination (a re-run resumes)
    bytes_copied: int = 0
    seconds: float = 0.0
    details: dict = field(default_factory=dict)


@dataclass
class VerificationReport:
    passed: bool
    checked: int
    mismatches: list = field(default_factory=list)   # human-readable, one per mismatching file or table


class Adapter(ABC):
    """One side of a migration, built from its validated config."""

    #: The config's `type` value ("directory", "sqlite", "postgresql", "mysql").
    type: ClassVar[str]
    #: "files" or "database": which transfer engine moves data between two adapters.
    kind: ClassVar[str]
    #: Validates this adapter's config; secret fields are write-only.
    config_serializer: ClassVar[type[serializers.Serializer]]
    #: Config keys that hold credentials: stored encrypted, never returned or logged.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: One sentence for GET /system/types.
    description: ClassVar[str] = ""

    def __init__(self, config: dict, *, confinement: Confinement):
        self.config = config
        self.confinement = confinement

    @abstractmethod
    def checks(self, *, role: str) -> list[Check]:
        """Reachability, permissions and confinement, as `source` or `destination`."""

    @abstractmethod
    def measure(self) -> Measurement:
        """How much there is to move (a source) or already there (a destination)."""

    def free_bytes(self) -> int | None:
        """Space left where a destination writes; None when it cannot be known."""
        return None
