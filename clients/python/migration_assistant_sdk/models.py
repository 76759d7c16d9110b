"""What the API answers, as typed objects; each keeps the whole answer in `raw`, so fields added to the API later
are never lost."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

#: Statuses after which a migration does no more on its own (a rollback may still be asked for).
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "rolled_back"})

Model = TypeVar("Model", bound="ApiObject")


@dataclass
class ApiObject:
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls: type[Model], data: dict[str, Any]) -> Model:
        known = {f.name for f in fields(cls)} - {"raw"}
        return cls(raw=dict(data), **{name: value for name, value in data.items() if name in known})


@dataclass
class Receipt(ApiObject):
    """The answer of a verb (start, cancel, rollback, schedule): the session, its status now, what happened."""

    session_id: str = ""
    status: str = ""
    message: str = ""


@dataclass
class Migration(Receipt):
    """A created migration session."""

    created_at: str | None = None


@dataclass
class MigrationSummary(ApiObject):
    """One row of the migrations list."""

    session_id: str = ""
    name: str = ""
    status: str = ""
    progress: float = 0.0
    created_at: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    source_type: str | None = None
    destination_type: str | None = None


@dataclass
class MigrationStatus(ApiObject):
    """Where a migration is: GET /migrations/{session_id}/status, and every message of its WebSocket."""

    session_id: str = ""
    status: str = ""
    progress: float = 0.0
    current_step: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: float | None = None
    error: str | None = None
    steps_completed: int | None = None
    steps_total: int | None = None
    performance_metrics: dict[str, Any] | None = None
    current_operation: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass
class LogEntry(ApiObject):
    timestamp: str = ""
    level: str = ""
    message: str = ""
    component: str | None = None
    details: dict[str, Any] | None = None


@dataclass
class LogPage(ApiObject):
    session_id: str = ""
    logs: list[LogEntry] = field(default_factory=list)
    total_logs: int = 0
    has_more: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogPage:
        page = super().from_dict(data)
        page.logs = [LogEntry.from_dict(entry) for entry in data.get("logs", [])]
        return page
