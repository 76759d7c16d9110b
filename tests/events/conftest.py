"""Fixtures of the change-event tests."""
import pytest

from apps.events.models import Event


def events_of(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at"))


@pytest.fixture
def handed_to_relay(monkeypatch):
    """Event ids handed to the relay after commit (recorded here instead of queued)."""
    handed = []
    monkeypatch.setattr("apps.events.services.hand_to_relay", handed.append)
    return handed
