"""MySQL/MariaDB as a source or destination (PyMySQL): unbuffered cursors out, batched multi-row INSERTs in.

MySQL commits DDL implicitly, so a table is filled under a staging name and swapped in with one atomic
RENAME TABLE: a cancel or failure midway drops the staging table and leaves the original untouched."""
from collections.abc import Generator, Iterable
from contextlib import closing

import pymysql
import pymysql.cursors
from rest_framework import serializers

from .base import (AUTHENTICATION_FAILED, COULD_NOT_CONNECT, INTERNAL_PREFIX, NO_SUCH_DATABASE, TIMED_OUT,
                   Batch, Connection, DatabaseAdapter, DatabaseError, HostField, ServerConfig, new_backup_id)
from .column_types import Column, Table, mysql_declaration, neutral_from_mysql

#: MySQL/MariaDB client and server error codes of a refused login: access denied (to the server, to the
#: database, to a socket-authenticated account) and an authentication plugin the client cannot speak.
_AUTHENTICATION_CODES = {1044, 1045, 1698, 2059, 1251}
_UNKNOWN_DATABASE = 1049


class MySQLConfig(ServerConfig):
    default_port = 3306

    host = HostField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535, default=3306)
    database = serializers.CharField(max_length=64)
    username = serializers.CharField(max_length=80)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                     trim_whitespace=False, style={"input_type": "password"})


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MySQLAdapter(DatabaseAdapter):
    """A MySQL or MariaDB database."""

    type = dialect = "mysql"
    default_port = 3306
    config_serializer = MySQLConfig
    secret_fields = ("password",)
    description = "A MySQL or MariaDB database: tables copied in batches, verified by row counts and checksums."

    def connect(self, *, role: str = "source") -> pymysql.connections.Connection:
        cfg = self.config
        # UTC sessions: TIMESTAMP columns come back, and DATETIME values go in, as UTC.
        return pymysql.connect(host=cfg["host"], port=cfg.get("port", 3306), user=cfg["username"],
                               password=cfg.get("password") or "", database=cfg["database"], charset="utf8mb4",
                               connect_timeout=10, autocommit=True, init_command="SET time_zone = '+00:00'")

    def connection_failure(self, error: Exception) -> str:
        code = error.args[0] if isinstance(error, pymysql.MySQLError) and error.args else None
        if code in _AUTHENTICATION_CODES:
            return AUTHENTICATION_FAILED
        if code == _UNKNOWN_DATABASE:
            return NO_SUCH_DATABASE
        return TIMED_OUT if "timed out" in str(error).lower() else COULD_NOT_CONNECT

    def qualified(self, name: str) -> str:
        return _q(name)

    def list_tables(self, conn: Connection) -> list[str]:
        with closing(conn.cursor()) as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                           "AND table_type = 'BASE TABLE' ORDER BY 1")
            return [name for (name,) in cursor.fetchall() if not name.startswith(INTERNAL_PREFIX)]

    def read_table(self, conn: Connection, name: str) -> Table:
        with closing(conn.cursor()) as cursor:
            cursor.execute("SELECT column_name, column_type, is_nullable FROM information_schema.columns "
                           "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position", [name])
            columns = [Column(column, neutral_from_mysql(native), native, nullable == "YES")
                       for column, native, nullable in cursor.fetchall()]
            cursor.execute("SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
                           "AND table_name = %s AND index_name = 'PRIMARY' ORDER BY seq_in_index", [name])
            return Table(name, columns, [column for (column,) in cursor.fetchall()])

    def table_bytes(self, conn: Connection, name: str) -> int | None:
        with closing(conn.cursor()) as cursor:
            cursor.execute("SELECT data_length + index_length FROM information_schema.tables "
                           "WHERE table_schema = DATABASE() AND table_name = %s", [name])
            row = cursor.fetchone()
            return int(row[0]) if row and row[0] is not None else None

    def stream(self, conn: Connection, table: Table, *, batch_size: int,
               as_text: frozenset[str] = frozenset()) -> Generator[Batch, None, None]:
        columns = ", ".join(f"CAST({_q(c.name)} AS CHAR)" if c.name in as_text else _q(c.name)
                            for c in table.columns)
        # SSCursor is unbuffered: rows stay on the server until fetched, one batch at a time.
        cursor = conn.cursor(pymysql.cursors.SSCursor)
        finished = False
        try:
            cursor.execute(f"SELECT {columns} FROM {_q(table.name)}")
            while batch := cursor.fetchmany(batch_size):
                yield batch
            finished = True
        finally:
            if finished:
                cursor.close()
            else:
                # Closing an unbuffered cursor reads the rest of the result; dropping the connection does not.
                conn.close()

    def declaration(self, column: Column, *, in_primary_key: bool) -> str:
        return mysql_declaration(column.type, in_primary_key=in_primary_key)

    def _create(self, table: Table, name: str) -> str:
        parts = [f"{_q(c.name)} {c.native}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(map(_q, table.primary_key))})")
        # Binary collation: keys that differ only by case (distinct in PostgreSQL and SQLite) stay distinct.
        return (f"CREATE TABLE {_q(name)} ({', '.join(parts)}) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")

    def replace_table(self, conn: Connection, table: Table, batches: Iterable[Batch]) -> None:
        staging = f"{INTERNAL_PREFIX}tmp_{new_backup_id()}"
        insert = (f"INSERT INTO {_q(staging)} ({', '.join(map(_q, table.column_names))}) "
                  f"VALUES ({', '.join(['%s'] * len(table.columns))})")
        with closing(conn.cursor()) as cursor:
            cursor.execute(self._create(table, staging))
            try:
                conn.begin()
                for batch in batches:
                    cursor.executemany(insert, batch)   # PyMySQL sends these as multi-row INSERTs
                conn.commit()
                if table.name in self.list_tables(conn):
                    retired = f"{INTERNAL_PREFIX}old_{new_backup_id()}"
                    cursor.execute(f"RENAME TABLE {_q(table.name)} TO {_q(retired)}, "
                                   f"{_q(staging)} TO {_q(table.name)}")
                    cursor.execute(f"DROP TABLE {_q(retired)}")
                else:
                    cursor.execute(f"RENAME TABLE {_q(staging)} TO {_q(table.name)}")
            except BaseException:
                if conn.open:
                    conn.rollback()
                    cursor.execute(f"DROP TABLE IF EXISTS {_q(staging)}")
                else:   # the source stream may share nothing with us, but a dropped link means a new one
                    with closing(self.open(role="destination")) as fresh, closing(fresh.cursor()) as again:
                        again.execute(f"DROP TABLE IF EXISTS {_q(staging)}")
                raise

    def can_read(self, conn: Connection, name: str) -> bool:
        try:
            with closing(conn.cursor()) as cursor:
                cursor.execute(f"SELECT * FROM {_q(name)} LIMIT 0")
            return True
        except pymysql.MySQLError:
            return False

    def can_create(self, conn: Connection) -> bool:
        probe = f"{INTERNAL_PREFIX}probe_{new_backup_id()}"
        try:
            with closing(conn.cursor()) as cursor:
                cursor.execute(f"CREATE TABLE {_q(probe)} (id int)")
                cursor.execute(f"DROP TABLE {_q(probe)}")
            return True
        except pymysql.MySQLError:
            return False

    # --- backup: originals renamed aside in the same database, a copy left in their place --------------------

    def backup(self, tables: list[str] | None, backup_id: str) -> dict:
        saved = {}
        with closing(self.open(role="destination")) as conn, closing(conn.cursor()) as cursor:
            existing = set(self.list_tables(conn))
            names = sorted(existing) if tables is None else list(tables)
            for index, name in enumerate(names):
                if name not in existing:
                    saved[name] = None
                    continue
                aside = f"{INTERNAL_PREFIX}bak_{backup_id}_{index}"
                # RENAME keeps the original object (indexes, foreign keys, triggers, AUTO_INCREMENT) for rollback.
                cursor.execute(f"RENAME TABLE {_q(name)} TO {_q(aside)}")
                cursor.execute(f"CREATE TABLE {_q(name)} LIKE {_q(aside)}")
                cursor.execute(f"INSERT INTO {_q(name)} SELECT * FROM {_q(aside)}")
                saved[name] = aside
        return {"engine": self.dialect, "tables": saved, "snapshot": sorted(existing) if tables is None else None}

    def restore(self, backup: dict) -> None:
        with closing(self.open(role="destination")) as conn, closing(conn.cursor()) as cursor:
            present = set(self.list_tables(conn))
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
            everything = {name for (name,) in cursor.fetchall()}
            missing = [aside for aside in backup["tables"].values() if aside and aside not in everything]
            if missing:
                raise DatabaseError(f"The backup tables {', '.join(missing)} no longer exist at {self.label}.")
            names = dict(backup["tables"])
            if backup.get("snapshot") is not None:
                names.update({name: None for name in present if name not in backup["snapshot"]})
            for name, aside in names.items():
                cursor.execute(f"DROP TABLE IF EXISTS {_q(name)}")
                if aside:
                    cursor.execute(f"RENAME TABLE {_q(aside)} TO {_q(name)}")

    def discard_backup(self, backup: dict) -> None:
        with closing(self.open(role="destination")) as conn, closing(conn.cursor()) as cursor:
            for aside in backup["tables"].values():
                if aside:
                    cursor.execute(f"DROP TABLE IF EXISTS {_q(aside)}")
