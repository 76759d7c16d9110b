"""What the three database adapters share: the checks and measurement built on a handful of dialect primitives
(list, describe, count and stream tables; create and fill one), and keeping credentials out of every message."""
import uuid
from collections.abc import Generator, Iterable
from contextlib import closing
from typing import Any, ClassVar, Protocol

from rest_framework import serializers

from ..base import Adapter, Check, Measurement, StrictSerializer
from ..confinement import Confinement, ConfinementError
from .column_types import Column, Table


#: Rows of one table in column order, as many as a batch holds.
Batch = list[tuple[Any, ...]]


class Connection(Protocol):
    """A DB-API 2.0 connection of an adapter's driver (sqlite3, psycopg, PyMySQL): what the shared code calls.
    Each engine module uses its own driver's connection beyond this."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


class DatabaseError(Exception):
    """A database move cannot go on; the message is safe to show (no credentials, no server text)."""


# Why a connection failed, in words of our own: the server's own error lines are never echoed, so validation
# tells a client no more than whether an allow-listed server would let it in.
COULD_NOT_CONNECT = "could not connect"
AUTHENTICATION_FAILED = "authentication failed"
NO_SUCH_DATABASE = "database does not exist"
TIMED_OUT = "timed out"


def confine_server(confinement: Confinement, config: dict, *, default_port: int) -> None:
    """Refuse a server outside the allow-lists, the platform's own stores, and a password-less login the operator
    has not allowed for that server (ConfinementError naming the field)."""
    host, port = config["host"], int(config.get("port") or default_port)
    confinement.check_database(host, port, config["database"], default_port=default_port)
    if not config.get("password") and not confinement.allows_passwordless(host, port, default_port=default_port):
        raise ConfinementError("A password is needed: password-less logins are allowed only to the servers the "
                               "operator lists in MIGRATION_ALLOW_PASSWORDLESS.", field="password")


class HostField(serializers.CharField):
    """A database host, which must be one the deployment allows (field error on `host`)."""

    def to_internal_value(self, data: Any) -> str:
        host = super().to_internal_value(data)
        try:
            return self.context["confinement"].check_host(host)
        except ConfinementError as error:
            raise serializers.ValidationError(str(error)) from None


class ServerConfig(StrictSerializer):
    """What the PostgreSQL and MySQL configs share: once each field is valid, the server as a whole must be
    allowed (host, port and database together), and a password-less login must be allowed for it."""

    default_port: ClassVar[int]
    renamed = {"user": "username"}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            confine_server(self.context["confinement"], attrs, default_port=self.default_port)
        except ConfinementError as error:
            raise serializers.ValidationError({error.field: [str(error)]}) from None
        return attrs


#: Tables Tessera itself creates at a destination (staging and backups); never listed, copied or measured.
INTERNAL_PREFIX = "tessera_"


class DatabaseAdapter(Adapter):
    kind = "database"
    #: The SQL dialect spoken ("sqlite", "postgresql", "mysql"): rows and declarations cross unconverted between
    #: two adapters of the same dialect.
    dialect: str
    #: The port the server listens on when the config leaves it out (servers only).
    default_port: ClassVar[int | None] = None

    # --- dialect primitives (each dialect module implements these) ----------------------------------------------

    def connect(self, *, role: str = "source") -> Connection:
        """A new DB-API connection; callers close it."""
        raise NotImplementedError

    def connection_failure(self, error: Exception) -> str:
        """Which of the fixed reasons (COULD_NOT_CONNECT, ...) a driver's connection error means."""
        return COULD_NOT_CONNECT

    def password_checked(self, conn: Connection) -> bool:
        """Whether the server made this login prove a password (a trust or peer login does not)."""
        return True

    def list_tables(self, conn: Connection) -> list[str]:
        raise NotImplementedError

    def read_table(self, conn: Connection, name: str) -> Table:
        raise NotImplementedError

    def count_rows(self, conn: Connection, name: str) -> int:
        with closing(conn.cursor()) as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.qualified(name)}")
            return int(cursor.fetchone()[0])

    def table_bytes(self, conn: Connection, name: str) -> int | None:
        return None

    def stream(self, conn: Connection, table: Table, *, batch_size: int,
               as_text: frozenset[str] = frozenset()) -> Generator[Batch, None, None]:
        """Batches (lists of tuples) of the table's rows in column order, memory bounded by batch_size.
        Columns named in `as_text` are read as their text form (types with no neutral equivalent)."""
        raise NotImplementedError

    def declaration(self, column: Column, *, in_primary_key: bool) -> str:
        """This dialect's type for a neutral column type."""
        raise NotImplementedError

    def replace_table(self, conn: Connection, table: Table, batches: Iterable[Batch]) -> None:
        """Create `table` (replacing one of that name) and fill it from `batches`, all or nothing: when anything
        raises midway (a cancel arrives through the batches iterator) the destination keeps what it had before."""
        raise NotImplementedError

    def can_read(self, conn: Connection, name: str) -> bool:
        raise NotImplementedError

    def can_create(self, conn: Connection) -> bool:
        raise NotImplementedError

    def prepare_destination(self, conn: Connection) -> None:
        """Anything a copy needs before its first table (PostgreSQL creates the schema)."""

    # --- backup primitives -------------------------------------------------------------------------------------

    def backup(self, tables: list[str] | None, backup_id: str) -> dict:
        raise NotImplementedError

    def restore(self, backup: dict) -> None:
        raise NotImplementedError

    def discard_backup(self, backup: dict) -> None:
        raise NotImplementedError

    # --- shared behaviour --------------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """Where this adapter points, for messages: never includes the password."""
        cfg = self.config
        return f"{self.type}://{cfg.get('username', '')}@{cfg.get('host')}:{cfg.get('port')}/{cfg.get('database')}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    __str__ = __repr__

    def confine(self) -> None:
        """Check the server again where the connection is made, whatever validation said before: a stored run,
        or a setting changed since, must not reach the platform's own stores. Raises ConfinementError."""
        confine_server(self.confinement, self.config, default_port=self.default_port)

    def open(self, *, role: str = "source") -> Connection:
        """connect() to a confined server, with driver errors turned into one of the fixed reasons (never the
        server's text), and a login the server let in without checking a password refused unless allowed."""
        try:
            self.confine()
        except ConfinementError as error:
            raise DatabaseError(str(error)) from None
        try:
            conn = self.connect(role=role)
        except DatabaseError:
            raise
        except Exception as error:  # driver-specific exception classes
            raise DatabaseError(f"Cannot connect to {self.label}: {self.connection_failure(error)}.") from None
        if not self.password_checked(conn) and not self.confinement.allows_passwordless(
                self.config["host"], int(self.config.get("port") or self.default_port), default_port=self.default_port):
            conn.close()
            raise DatabaseError(f"{self.label} let us in without checking the password; such servers are allowed "
                                "only when the operator lists them in MIGRATION_ALLOW_PASSWORDLESS.")
        return conn

    def checks(self, *, role: str) -> list[Check]:
        try:
            conn = self.open(role=role)
        except DatabaseError as error:
            return [Check("reachable", False, str(error))]
        results = [Check("reachable", True, f"Connected to {self.label}.")]
        with closing(conn):
            tables = self.list_tables(conn)
            if role == "source":
                results += self._source_checks(conn, tables)
            else:
                results += self._destination_checks(conn, tables)
        return results

    def _source_checks(self, conn: Connection, tables) -> list[Check]:
        if not tables:
            return [Check("tables", False, f"{self.label} has no tables to copy.", "warning")]
        unreadable = [name for name in tables if not self.can_read(conn, name)]
        results = [Check("permissions", not unreadable,
                         f"Cannot read {', '.join(unreadable)}." if unreadable else f"Can read all {len(tables)} tables.")]
        untyped = [f"{name}.{column.name}" for name in tables if name not in unreadable
                   for column in self.read_table(conn, name).columns if column.type is None]
        if untyped:
            results.append(Check("schema", False, "Copied as text into another engine (no equivalent type): "
                                 + ", ".join(untyped[:20]), "warning"))
        return results

    def _destination_checks(self, conn: Connection, tables) -> list[Check]:
        writable = self.can_create(conn)
        results = [Check("permissions", writable,
                         "Can create tables." if writable else f"Cannot create tables in {self.label}.")]
        if tables:
            results.append(Check("conflicts", False,
                                 f"{len(tables)} tables already exist ({', '.join(tables[:10])}"
                                 f"{', …' if len(tables) > 10 else ''}); a source table of the same name replaces "
                                 "its namesake (safety.backup_before keeps a copy for rollback).", "warning"))
        return results

    def measure(self) -> Measurement:
        with closing(self.open()) as conn:
            rows, sizes = {}, {}
            for name in self.list_tables(conn):
                rows[name] = self.count_rows(conn, name)
                sizes[name] = self.table_bytes(conn, name)
            estimated = self.estimate_bytes(rows, sizes)
        return Measurement(items=sum(rows.values()), bytes=sum(estimated.values()),
                           details={"tables": rows, "bytes": estimated})

    def estimate_bytes(self, rows: dict, sizes: dict) -> dict:
        """Engines that cannot size one table get a share of the whole proportional to its rows."""
        return {name: size if size is not None else rows[name] * 100 for name, size in sizes.items()}


def new_backup_id() -> str:
    return uuid.uuid4().hex[:12]
