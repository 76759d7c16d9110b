"""Database adapters (SQLite, PostgreSQL, MySQL/MariaDB) and the functions that copy, verify, back up and restore
tables between any two of them. A library: no models, no settings; the database transfer (adapters/transfers.py)
calls it.

    copy_database(source, destination, *, tables=None, batch_size=5000, progress) -> TransferReport
    verify_database(source, destination, *, tables=None) -> VerificationReport
    backup_database(destination, tables=None, *, source=None) -> dict      (JSON-serializable)
    restore_database(destination, backup) -> None
"""
from .base import DatabaseAdapter, DatabaseError
from .mysql import MySQLAdapter
from .postgresql import PostgreSQLAdapter
from .sqlite import SQLiteAdapter
from .transfer import (backup_database, copy_database, discard_backup, plan_checks, restore_database,
                       table_checksums, verify_database)

__all__ = ["DatabaseAdapter", "DatabaseError", "MySQLAdapter", "PostgreSQLAdapter", "SQLiteAdapter",
           "backup_database", "copy_database", "discard_backup", "plan_checks", "restore_database",
           "table_checksums", "verify_database"]
