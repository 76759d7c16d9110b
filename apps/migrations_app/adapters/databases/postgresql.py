"""PostgreSQL as a source or destination (psycopg 3): server-side cursors out, COPY in, and a COPY-to-COPY pipe
when both sides are PostgreSQL."""
import os
import uuid
from collections.abc import Callable, Generator, Iterable
from contextlib import closing

import psycopg
from psycopg import sql
from rest_framework import serializers

from .base import (AUTHENTICATION_FAILED, COULD_NOT_CONNECT, INTERNAL_PREFIX, NO_SUCH_DATABASE, TIMED_OUT,
                   Batch, Connection, DatabaseAdapter, DatabaseError, HostField, ServerConfig)
from .column_types import Column, Table, neutral_from_postgresql, postgresql_declaration

NO_PASSWORD_FILE = os.path.join(os.devnull, "none")
#: libpq's connection failures carry no SQLSTATE, only text: these fragments tell the fixed reasons apart.
_FAILURES = ((("timeout expired", "timed out"), TIMED_OUT),
             (("password authentication failed", "authentication failed", "no pg_hba.conf entry", "role \"",
               "password"), AUTHENTICATION_FAILED),
             (("database \"",), NO_SUCH_DATABASE))


class PostgreSQLConfig(ServerConfig):
    default_port = 5432

    host = HostField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535, default=5432)
    database = serializers.CharField(max_length=63)
    username = serializers.CharField(max_length=63)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                     trim_whitespace=False, style={"input_type": "password"})
    schema = serializers.CharField(max_length=63, default="public")


def _ident(*names) -> sql.Identifier:
    return sql.Identifier(*names)


class PostgreSQLAdapter(DatabaseAdapter):
    """A PostgreSQL database (one schema of it)."""

    type = dialect = "postgresql"
    default_port = 5432
    config_serializer = PostgreSQLConfig
    secret_fields = ("password",)
    description = "A PostgreSQL database schema: tables copied with COPY, verified by row counts and checksums."

    @property
    def schema(self) -> str:
        return self.config.get("schema") or "public"

    def connect(self, *, role: str = "source") -> psycopg.Connection:
        cfg = self.config
        # A password file that cannot exist: the platform user's own saved passwords (~/.pgpass) never log a
        # tenant's migration in.
        return psycopg.connect(host=cfg["host"], port=cfg.get("port", 5432), dbname=cfg["database"],
                               user=cfg["username"], password=cfg.get("password") or None, passfile=NO_PASSWORD_FILE,
                               connect_timeout=10,
                               application_name=f"tessera-migration-{role}", autocommit=True)

    def connection_failure(self, error: Exception) -> str:
        if isinstance(error, psycopg.errors.ConnectionTimeout):
            return TIMED_OUT
        text = str(error).lower()
        return next((reason for fragments, reason in _FAILURES if any(f in text for f in fragments)),
                    COULD_NOT_CONNECT)

    def password_checked(self, conn: Connection) -> bool:
        return bool(conn.pgconn.used_password)

    def qualified(self, name: str) -> str:
        return _ident(self.schema, name).as_string(None)

    def list_tables(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
            [self.schema]).fetchall()
        return [name for (name,) in rows if not name.startswith(INTERNAL_PREFIX)]

    def read_table(self, conn: Connection, name: str) -> Table:
        relation = self.qualified(name)
        columns = [
            Column(column, neutral_from_postgresql(data_type, length=length, precision=precision, scale=scale),
                   native, nullable == "YES")
            for column, data_type, length, precision, scale, nullable, native in conn.execute(
                "SELECT c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision, "
                "c.numeric_scale, c.is_nullable, format_type(a.atttypid, a.atttypmod) "
                "FROM information_schema.columns c JOIN pg_attribute a "
                "ON a.attrelid = %s::regclass AND a.attname = c.column_name "
                "WHERE c.table_schema = %s AND c.table_name = %s AND c.is_generated = 'NEVER' "
                "ORDER BY c.ordinal_position", [relation, self.schema, name])]
        key = [column for (column,) in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)", [relation])]
        return Table(name, columns, key)

    def table_bytes(self, conn: Connection, name: str) -> int | None:
        return int(conn.execute("SELECT pg_total_relation_size(%s::regclass)", [self.qualified(name)]).fetchone()[0])

    def _select(self, table: Table, as_text=frozenset()) -> sql.Composed:
        columns = sql.SQL(", ").join(
            sql.SQL("{}::text").format(_ident(c.name)) if c.name in as_text else _ident(c.name)
            for c in table.columns)
        return sql.SQL("SELECT {} FROM {}").format(columns, _ident(self.schema, table.name))

    def stream(self, conn: Connection, table: Table, *, batch_size: int,
               as_text: frozenset[str] = frozenset()) -> Generator[Batch, None, None]:
        # A named cursor is server-side: the client holds one batch, whatever the table's size.
        with conn.transaction(), conn.cursor(name=f"tessera_{uuid.uuid4().hex[:8]}") as cursor:
            cursor.itersize = batch_size
            cursor.execute(self._select(table, as_text))
            while batch := cursor.fetchmany(batch_size):
                yield batch

    def declaration(self, column: Column, *, in_primary_key: bool) -> str:
        return postgresql_declaration(column.type)

    def _create(self, table: Table) -> sql.Composed:
        parts = [sql.SQL("{} {}{}").format(_ident(c.name), sql.SQL(c.native),
                                           sql.SQL("" if c.nullable else " NOT NULL")) for c in table.columns]
        return sql.SQL("CREATE TABLE {} ({})").format(_ident(self.schema, table.name), sql.SQL(", ").join(parts))

    def _add_primary_key(self, cursor, table: Table) -> None:
        # After the load, as pg_dump does: one index build is much cheaper than maintaining it row by row.
        if table.primary_key:
            cursor.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                _ident(self.schema, table.name), sql.SQL(", ").join(map(_ident, table.primary_key))))

    def _copy_in(self, table: Table) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN").format(
            _ident(self.schema, table.name), sql.SQL(", ").join(map(_ident, table.column_names)))

    def prepare_destination(self, conn: Connection) -> None:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(self.schema)))

    def replace_table(self, conn: Connection, table: Table, batches: Iterable[Batch]) -> None:
        # DDL is transactional here: drop, create and COPY commit together or not at all.
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(self.schema, table.name)))
            cursor.execute(self._create(table))
            with cursor.copy(self._copy_in(table)) as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)
            self._add_primary_key(cursor, table)

    def pipe_table(self, source_conn: psycopg.Connection, source: "PostgreSQLAdapter", conn: psycopg.Connection,
                   table: Table, on_rows: Callable[[int], None]) -> int:
        """PostgreSQL→PostgreSQL: the source's COPY TO output fed straight into COPY FROM (text format, which
        round-trips every type exactly), with no Python value in between. `on_rows(n)` is told the rows moved
        (one COPY data message is one row) and may raise to cancel. Returns the bytes moved."""
        moved = rows = 0
        copy_out = sql.SQL("COPY ({}) TO STDOUT").format(source._select(table))
        with conn.transaction(), conn.cursor() as cursor, source_conn.cursor() as reader:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(self.schema, table.name)))
            cursor.execute(self._create(table))
            with reader.copy(copy_out) as out, cursor.copy(self._copy_in(table)) as copy_in:
                write = copy_in.write
                for data in out:
                    write(data)
                    moved += len(data)
                    rows += 1
                    if rows & 1023 == 0:
                        on_rows(1024)
            on_rows(rows & 1023)
            self._add_primary_key(cursor, table)
        return moved

    def can_read(self, conn: Connection, name: str) -> bool:
        return bool(conn.execute("SELECT has_table_privilege(%s::regclass, 'SELECT')",
                                 [self.qualified(name)]).fetchone()[0])

    def can_create(self, conn: Connection) -> bool:
        schema_exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]).fetchone()
        if schema_exists:
            return bool(conn.execute("SELECT has_schema_privilege(%s, 'CREATE')", [self.schema]).fetchone()[0])
        return bool(conn.execute("SELECT has_database_privilege(current_database(), 'CREATE')").fetchone()[0])

    # --- backup: the tables a copy will replace move into their own schema; a copy stays in their place -------

    def backup(self, tables: list[str] | None, backup_id: str) -> dict:
        backup_schema = f"{INTERNAL_PREFIX}backup_{backup_id}"
        with closing(self.open(role="destination")) as conn, conn.transaction():
            schema_existed = bool(conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                               [self.schema]).fetchone())
            existing = set(self.list_tables(conn)) if schema_existed else set()
            names = sorted(existing) if tables is None else list(tables)
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(_ident(backup_schema)))
            for name in names:
                if name not in existing:
                    continue
                # The original object (with its indexes, constraints, owned sequences, grants) is what rollback
                # puts back; the destination meanwhile gets an identical copy, so nothing vanishes before the copy.
                columns = sql.SQL(", ").join(_ident(c.name) for c in self.read_table(conn, name).columns)
                conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(_ident(self.schema, name),
                                                                            _ident(backup_schema)))
                conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    _ident(self.schema, name), _ident(backup_schema, name)))
                conn.execute(sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}").format(
                    _ident(self.schema, name), columns, columns, _ident(backup_schema, name)))
        return {"engine": self.dialect, "backup_schema": backup_schema, "schema": self.schema,
                "schema_existed": schema_existed, "tables": {name: name in existing for name in names},
                "snapshot": sorted(existing) if tables is None else None}

    def restore(self, backup: dict) -> None:
        backup_schema = backup["backup_schema"]
        with closing(self.open(role="destination")) as conn, conn.transaction():
            if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [backup_schema]).fetchone():
                raise DatabaseError(f"The backup {backup_schema} no longer exists at {self.label}.")
            names = dict(backup["tables"])
            if backup.get("snapshot") is not None:   # whole-schema backup: tables created since go too
                names.update({name: False for name in self.list_tables(conn) if name not in backup["snapshot"]})
            for name, existed in names.items():
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(self.schema, name)))
                if existed:
                    conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(_ident(backup_schema, name),
                                                                                _ident(self.schema)))
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(_ident(backup_schema)))
            if not backup["schema_existed"]:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(_ident(self.schema)))

    def discard_backup(self, backup: dict) -> None:
        with closing(self.open(role="destination")) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_ident(backup["backup_schema"])))

