"""Pre-migration checks: what `POST /validate/` reports, and what refuses a start (422, the guide's VALIDATION_FAILED).

Both run the same checks against the real systems (confinement, reachability and credentials, permissions, free
space against the measured size, conflicts), so a plan that /validate/ says `can_proceed` starts, and one it says
cannot is refused at start, before anything is written, with each failing check in the guide's words:
`{check: "source_connectivity", error: <what the check found>, suggestion: <what to do about it>}`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.api.errors import Unprocessable

from .adapters.base import Check
from .config import parts, transfer_for, transfer_options

if TYPE_CHECKING:
    from apps.tenants.models import Tenant

#: The refusal's message, the guide's own.
REFUSED = "Pre-migration validation failed"

#: The guide's word for what an adapter's check is about (`reachable` -> `source_connectivity`).
ASPECTS = {"reachable": "connectivity", "readable": "permissions", "writable": "permissions",
           "free space": "free_space"}

#: What to do about a failing check, by aspect (and side, where the two differ).
SUGGESTIONS = {
    "connectivity": "Verify the host, port, database name and credentials, that the server is running, and that "
                    "it accepts connections from this deployment.",
    "confinement": "Use a location this deployment lets migrations use (an operator lists them in "
                   "TESSERA_MIGRATIONS; a tenant may narrow them).",
    "exists": "Check the path: the source must be an existing directory.",
    "source_permissions": "Let the account the migration uses read everything to be copied (the files and "
                          "directories, or the tables).",
    "destination_permissions": "Let the account the migration uses write at the destination (create directories "
                               "and files, or create tables).",
    "tables": "Check transfer.options.tables against the tables the source has.",
    "free_space": "Free space at the destination, or move less in one migration.",
}
DEFAULT_SUGGESTION = "POST this plan to /validate/ for the full report."


@dataclass
class CheckedPlan:
    """Every check a plan was put through, what its source measured and how long moving it should take."""

    checks: list[Check]
    measured_bytes: int
    estimated_seconds: float | None

    @property
    def blocking(self) -> list[Check]:
        return [check for check in self.checks if not check.passed and check.severity == "error"]


def check_plan(config: dict[str, Any], *, tenant: Tenant | None = None) -> CheckedPlan:
    """Put a validated config through every check, part by part: each side's own first, then (when they pass)
    what only the pair can tell, the measured size and the destination's free space."""
    options = transfer_options(config)
    checks, total_bytes, kinds = [], 0, set()
    for part in parts(config):
        transfer = transfer_for(part, options=options, tenant=tenant)
        checks += transfer.checks()
        if not all(check.passed for check in checks if check.severity == "error"):
            continue
        checks += transfer.plan_checks()
        measured = transfer.source.measure()
        total_bytes += measured.bytes
        kinds.add(type(transfer))
        free = transfer.destination.free_bytes()
        if free is not None:
            checks.append(Check(f"{part.name}: free space", free >= measured.bytes,
                                f"{free} bytes free for {measured.bytes} bytes to move.", side="destination"))
    estimate = sum(kind.estimate_seconds(total_bytes / len(kinds)) for kind in kinds) if kinds else None
    return CheckedPlan(checks=checks, measured_bytes=total_bytes, estimated_seconds=estimate)


def report(checked: CheckedPlan) -> dict[str, Any]:
    """The validation report (`POST /validate/`)."""
    failed = [check for check in checked.checks if not check.passed]
    errors = [check.message for check in checked.blocking]
    warnings = [check.message for check in failed if check.severity != "error"]
    return {"valid": not errors, "checks_performed": [check.name for check in checked.checks],
            "checks_passed": len(checked.checks) - len(failed), "checks_failed": len(failed), "warnings": warnings,
            "errors": errors, "can_proceed": not errors, "estimated_duration": checked.estimated_seconds,
            "measured_bytes": checked.measured_bytes}


def require_passing(config: dict[str, Any], *, tenant: Tenant | None = None) -> None:
    """Refuse (422 `unprocessable`; the guide's VALIDATION_FAILED) a plan whose blocking checks fail, listing them
    as `details.failed_checks`."""
    blocking = check_plan(config, tenant=tenant).blocking
    if blocking:
        raise Unprocessable(REFUSED, details={"failed_checks": [failed_check(check) for check in blocking]})


def failed_check(check: Check) -> dict[str, str]:
    """One failing check as the guide words it."""
    name = check.name.split(": ")[-1]  # "main: free space" is the free space of part main
    aspect = ASPECTS.get(name, name).replace(" ", "_")
    identifier = f"{check.side}_{aspect}" if check.side else aspect
    suggestion = SUGGESTIONS.get(identifier) or SUGGESTIONS.get(aspect, DEFAULT_SUGGESTION)
    return {"check": identifier, "error": check.message, "suggestion": suggestion}
