"""SQLite as a source or destination (stdlib sqlite3): a file inside an allowed root, read-only as a source."""
import os
import shutil
import sqlite3
from collections.abc import Generator, Iterable
from contextlib import closing
from pathlib import Path

from rest_framework import serializers

from ..base import StrictSerializer
from ..confinement import ConfinementError
from .base import INTERNAL_PREFIX, Batch, Connection, DatabaseAdapter, DatabaseError
from .column_types import Column, Table, neutral_from_sqlite, sqlite_declaration


class SQLiteConfig(StrictSerializer):
    path = serializers.CharField(max_length=4096)

    def validate_path(self, value: str) -> str:
        try:
            return str(self.context["confinement"].resolve_path(value))
        except ConfinementError as error:
            raise serializers.ValidationError(str(error)) from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLiteAdapter(DatabaseAdapter):
    """A SQLite database file."""

    type = dialect = "sqlite"
    config_serializer = SQLiteConfig
    description = "A SQLite database file inside an allowed directory."

    @property
    def path(self) -> Path:
        # Resolved again on use: a symlink swapped in after validation still cannot lead outside the roots.
        return self.confinement.resolve_path(self.config["path"])

    @property
    def label(self) -> str:
        return f"sqlite:{self.config.get('path')}"

    def confine(self) -> None:
        """No server: the file is confined where its path is resolved, on every use."""

    def connect(self, *, role: str = "source") -> sqlite3.Connection:
        path = self.path
        if role == "source":
            if not path.is_file():
                raise DatabaseError(f"{path} does not exist.")
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            if not path.parent.is_dir():
                raise DatabaseError(f"The directory {path.parent} does not exist.")
            conn = sqlite3.connect(path, isolation_level=None)   # transactions are explicit (BEGIN … COMMIT)
        return conn

    def qualified(self, name: str) -> str:
        return _q(name)

    def list_tables(self, conn: Connection) -> list[str]:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                            "ORDER BY name").fetchall()
        return [name for (name,) in rows if not name.startswith(INTERNAL_PREFIX)]

    def read_table(self, conn: Connection, name: str) -> Table:
        info = conn.execute(f"PRAGMA table_info({_q(name)})").fetchall()
        columns = [Column(column, neutral_from_sqlite(declared), declared or "", not notnull)
                   for _, column, declared, notnull, _, _ in info]
        key = [column for _, column, _, _, _, position in sorted(info, key=lambda row: row[5]) if position]
        return Table(name, columns, key)

    def table_bytes(self, conn: Connection, name: str) -> int | None:
        try:
            return int(conn.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = ?", [name]).fetchone()[0] or 0)
        except sqlite3.Error:   # dbstat is an optional compile-time feature
            return None

    def estimate_bytes(self, rows: dict, sizes: dict) -> dict:
        if all(size is not None for size in sizes.values()):
            return sizes
        total_rows, file_size = sum(rows.values()) or 1, self.path.stat().st_size
        return {name: file_size * count // total_rows for name, count in rows.items()}

    def stream(self, conn: Connection, table: Table, *, batch_size: int,
               as_text: frozenset[str] = frozenset()) -> Generator[Batch, None, None]:
        columns = ", ".join(_q(c.name) for c in table.columns)
        with closing(conn.execute(f"SELECT {columns} FROM {_q(table.name)}")) as cursor:
            while batch := cursor.fetchmany(batch_size):
                yield batch

    def declaration(self, column: Column, *, in_primary_key: bool) -> str:
        return sqlite_declaration(column.type)

    def replace_table(self, conn: Connection, table: Table, batches: Iterable[Batch]) -> None:
        parts = [f"{_q(c.name)} {c.native}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(map(_q, table.primary_key))})")
        insert = (f"INSERT INTO {_q(table.name)} ({', '.join(map(_q, table.column_names))}) "
                  f"VALUES ({', '.join('?' * len(table.columns))})")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"DROP TABLE IF EXISTS {_q(table.name)}")
            conn.execute(f"CREATE TABLE {_q(table.name)} ({', '.join(parts)})")
            for batch in batches:
                conn.executemany(insert, batch)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def can_read(self, conn: Connection, name: str) -> bool:
        try:
            conn.execute(f"SELECT * FROM {_q(name)} LIMIT 0").fetchall()
            return True
        except sqlite3.Error:
            return False

    def can_create(self, conn: Connection) -> bool:
        path = self.path
        return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))

    def free_bytes(self) -> int | None:
        parent = self.path.parent
        return shutil.disk_usage(parent).free if parent.is_dir() else None

    # --- backup: the whole file, through SQLite's online backup API (consistent even while in use) -----------

    def backup(self, tables: list[str] | None, backup_id: str) -> dict:
        path = self.path
        if not path.exists():
            return {"engine": self.dialect, "existed": False, "file": None, "tables": tables}
        copy = path.with_name(f"{path.name}.{INTERNAL_PREFIX}backup-{backup_id}")
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(copy)) as saved:
            live.backup(saved)
        return {"engine": self.dialect, "existed": True, "file": str(copy), "tables": tables}

    def restore(self, backup: dict) -> None:
        path = self.path
        if not backup["existed"]:
            path.unlink(missing_ok=True)
            return
        copy = self.confinement.resolve_path(backup["file"])   # the dict may have been stored and edited
        if not copy.is_file():
            raise DatabaseError(f"The backup {copy} no longer exists.")
        with closing(sqlite3.connect(copy)) as saved, closing(sqlite3.connect(path)) as live:
            saved.backup(live)
        copy.unlink()

    def discard_backup(self, backup: dict) -> None:
        if backup.get("file"):
            self.confinement.resolve_path(backup["file"]).unlink(missing_ok=True)

