"""`events_settings`: TESSERA_EVENTS, the relay's knobs, with their defaults."""
from apps.api.conf import AppSettings


def window_problem(value: object) -> str | None:
    """What is wrong with a HANDOFF_WINDOW_SECONDS value (check events.E002), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 5:
        return f"is {value!r}; it must be a number of seconds from 0 to 5."
    return None


events_settings = AppSettings("TESSERA_EVENTS", check_id="events.E001", validators={
    "HANDOFF_WINDOW_SECONDS": ("events.E002", window_problem),
}, defaults={
    # How long a process gathers the events its commits hand over before it queues a relay for all of them. A relay
    # costs a task, a transaction and a send per run, whatever it carries: under a steady stream of writes, relaying
    # one event per run spent more of the machine than the writes did. The price is this much delay before an event
    # reaches webhooks and /ws/events/ (0: a relay per hand-off, as soon as the workers take it).
    "HANDOFF_WINDOW_SECONDS": 0.2,
})
