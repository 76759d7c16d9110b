"""The adapter contract. Every adapter is a class registered by `type`, and every kind of adapter ("files",
"database") has one `Transfer` that moves data between two adapters of that kind. The pipeline drives both through
these methods only, so files and databases (and sites composed of both) move through one lifecycle without the
pipeline ever asking which kind it holds.

A transfer reports through a `progress` callable and must call it at least every second or so, because that is
where a stop lands (whatever the caller's callable raises unwinds through the transfer, which leaves the
destination consistent) and how the watcher sees motion:

    progress(done_items=..., total_items=..., done_bytes=..., total_bytes=..., step="copying users",
             message=None)
"""
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from typing import Any, ClassVar

from rest_framework import serializers

from .confinement import Confinement


class StrictSerializer(serializers.Serializer):
    """A config serializer that refuses keys it does not declare (an error on each), instead of dropping them: a
    typo is told, and nothing unvalidated is stored. `renamed` names the field an old spelling became."""

    renamed: ClassVar[dict[str, str]] = {}

    def to_internal_value(self, data: Any) -> dict[str, Any]:

        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: [f"Unknown field; this is `{self.renamed[key]}`."
                                                         if key in self.renamed else "Unknown field."]
                                                   for key in unknown})
        return super().to_internal_value(data)


@dataclass
class Check:
    """One line of a validation report. `error` severity blocks the start; `warning` does not. `side` is the one
    checked ("source" or "destination"; empty for what only the pair can tell), filled in by `Transfer.checks`."""

    name: str
    passed: bool
    message: str
    severity: str = "error"
    side: str = ""


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
    #: "files" or "database": whose `Transfer` moves data between two adapters (only two of one kind pair up).
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


#: `progress(done_items=..., total_items=..., done_bytes=..., total_bytes=..., step=..., message=None)`.
Progress = Callable[..., None]


class Transfer(ABC):
    """How data moves between a source and a destination adapter of one kind: back up what the copy will
    overwrite, copy, verify, and restore the backup. One subclass per kind (adapters/transfers.py)."""

    #: The adapter kind it moves.
    kind: ClassVar[str]
    #: A conservative throughput for this class of machine, for a first duration estimate.
    bytes_per_second: ClassVar[float]
    #: What it does, for GET /system/modules.
    features: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source: Adapter, destination: Adapter, *, options: dict[str, Any]) -> None:
        self.source, self.destination, self.options = source, destination, options

    @classmethod
    def estimate_seconds(cls, total_bytes: float) -> float:
        return round(total_bytes / cls.bytes_per_second + 1, 1)

    def checks(self) -> list[Check]:
        """Each side's own checks, in its role, each saying which side it is about."""
        return [replace(check, side=role) for role, adapter in (("source", self.source),
                                                                ("destination", self.destination))
                for check in adapter.checks(role=role)]

    def plan_checks(self) -> list[Check]:
        """What only the pair can tell (a conflict between what is copied and what is there); run once both sides
        pass their own checks."""
        return []

    @abstractmethod
    def backup(self, backup_dir: Path) -> dict[str, Any]:
        """Snapshot what the copy will overwrite at the destination, as a JSON-serializable dict for `restore`.
        `backup_dir` is this part's own directory under the deployment's backup root, for kinds that need one."""

    @abstractmethod
    def restore(self, backup: dict[str, Any]) -> None:
        """Put the destination back exactly as `backup` found it."""

    @abstractmethod
    def discard(self, backup: dict[str, Any]) -> None:
        """Delete a backup that no rollback will need any more (retention ran out, the migration was deleted)."""

    @abstractmethod
    def copy(self, progress: Progress) -> TransferReport:
        """Move everything from the source to the destination."""

    @abstractmethod
    def verify(self, copied: TransferReport, progress: Progress) -> VerificationReport:
        """Compare the destination with the source after `copy` (whose report may spare work)."""
