"""The components GET /health reports on, as the Migration Assistant guide shows them: other apps register a
cheap, in-process check for each of theirs at start-up (the platform knows none of them)."""
from collections.abc import Callable

#: Component name -> a zero-argument check that answers without touching the network (liveness stays cheap).
COMPONENTS: dict[str, Callable[[], bool]] = {}


def register_component(name: str, check: Callable[[], bool]) -> None:
    COMPONENTS[name] = check


def component_report() -> dict[str, bool]:
    """Each registered component and whether its check passes; a check that raises reports False."""
    report = {}
    for name, check in COMPONENTS.items():
        try:
            report[name] = bool(check())
        except Exception:
            report[name] = False
    return report
