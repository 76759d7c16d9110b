"""The live measures of one run, kept in `MigrationRun.metrics` as the worker moves data: steps done and total, the
current operation, each part's items and bytes done and total, transfer rates from bytes moved over time, and the
worker's own CPU and memory. Percent and step live on the run's job (the one place progress is kept); these are
what the job does not know. selectors.migration_status / migration_metrics read them back.
"""
from __future__ import annotations

import time
from typing import Any

import psutil

from . import services
from .models import MigrationRun

#: Seconds between two writes of the measures (a step change is written at once), and the shortest window the
#: current rate is measured over.
WRITE_INTERVAL = 0.5
RATE_WINDOW = 1.0


class RunTracker:
    """Fed with the pipeline's measures (`update(**measures)`); writes the snapshot onto the run, throttled."""

    def __init__(self, run: MigrationRun) -> None:
        self.run = run
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first reading starts the interval the next one measures
        self.started = time.monotonic()
        self.last_write = 0.0
        self.first_moved: float | None = None
        self.window = (self.started, 0)
        self.state: dict[str, Any] = {"steps_completed": 0, "steps_total": 0, "current_operation": None,
                                      "parts": {}, "rate_current": None, "rate_average": None, "rate_peak": None,
                                      "system": {"cpu_usage": None, "memory_bytes": None}}

    def update(self, *, part: str | None = None, kind: str | None = None, phase: str | None = None,
               done_items: int | None = None, total_items: int | None = None, done_bytes: int | None = None,
               total_bytes: int | None = None, steps_completed: int | None = None, steps_total: int | None = None,
               operation: dict[str, Any] | None = None) -> None:
        step_changed = steps_completed is not None
        if step_changed:
            self.state["steps_completed"], self.state["steps_total"] = steps_completed, steps_total
        if operation is not None:
            self.state["current_operation"] = operation
        if part is not None and phase == "transfer":
            self.state["parts"][part] = {"kind": kind, "done_items": done_items, "total_items": total_items,
                                         "done_bytes": done_bytes, "total_bytes": total_bytes}
            self._measure_rates()
        now = time.monotonic()
        if step_changed or now - self.last_write >= WRITE_INTERVAL:
            self.write(now)

    @property
    def bytes_moved(self) -> int:
        return sum(part["done_bytes"] or 0 for part in self.state["parts"].values())

    def _measure_rates(self) -> None:
        now, moved = time.monotonic(), self.bytes_moved
        if self.first_moved is None:
            self.first_moved, self.window = now, (now, moved)
            return
        since, moved_then = self.window
        if now - since >= RATE_WINDOW:
            current = (moved - moved_then) / (now - since)
            self.state["rate_current"] = round(current)
            self.state["rate_peak"] = round(max(current, self.state["rate_peak"] or 0))
            self.window = (now, moved)
        if now > self.first_moved:
            self.state["rate_average"] = round(moved / (now - self.first_moved))

    def finish(self, final: dict[str, Any] | None = None) -> dict[str, Any]:
        """The last snapshot (the pipeline's final metrics merged in, per part too), written; no operation runs."""
        self.state["current_operation"] = None
        if final:
            parts = final.get("parts", {})
            self.state.update({key: value for key, value in final.items() if key != "parts"})
            for name, measured in parts.items():
                self.state["parts"][name] = {**self.state["parts"].get(name, {}), **measured}
            copied = sum(part.get("bytes_copied") or 0 for part in parts.values())
            seconds = sum(part.get("seconds") or 0 for part in parts.values())
            if seconds:
                self.state["rate_average"] = round(copied / seconds)
        self.write(time.monotonic())
        return self.state

    def write(self, now: float) -> None:
        self.last_write = now
        self.state["seconds"] = round(now - self.started, 3)
        with self.process.oneshot():
            self.state["system"] = {"cpu_usage": round(self.process.cpu_percent(None), 1),
                                    "memory_bytes": self.process.memory_info().rss}
        services.migration_record_measures(self.run, metrics=self.state)
