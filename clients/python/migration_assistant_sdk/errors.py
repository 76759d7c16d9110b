"""The one exception the client raises for an error answer, carrying the API's error envelope."""
from __future__ import annotations

from typing import Any


class MigrationAPIError(Exception):
    """An error answer: `status_code`, the guide's `code` (INVALID_CONFIGURATION, MIGRATION_NOT_FOUND, ...),
    `message`, `details` and the `request_id` to quote when reporting it."""

    def __init__(self, status_code: int, code: str, message: str, *, details: dict[str, Any] | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code, self.code, self.message = status_code, code, message
        self.details = details or {}
        self.request_id = request_id


class WatchClosed(MigrationAPIError):
    """The progress socket was closed by the server: 4401 not authenticated, 4403 not a member of the tenant,
    4404 no such migration for you."""
