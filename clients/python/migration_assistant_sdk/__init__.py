"""Python client of the Migration Assistant API: `MigrationClient(base_url, api_key=...)`."""
from .client import MigrationClient, MigrationsAPI
from .errors import MigrationAPIError, WatchClosed
from .models import (
    TERMINAL_STATUSES,
    LogEntry,
    LogPage,
    Migration,
    MigrationStatus,
    MigrationSummary,
    Receipt,
)

__all__ = ["TERMINAL_STATUSES", "LogEntry", "LogPage", "Migration", "MigrationAPIError", "MigrationClient",
           "MigrationStatus", "MigrationSummary", "MigrationsAPI", "Receipt", "WatchClosed"]
__version__ = "1.0.0"
