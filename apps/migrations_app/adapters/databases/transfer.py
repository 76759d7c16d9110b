"""Moving tables: copy them between any two database adapters, verify them, back up and restore the destination.
Library functions, called by the database transfer (adapters/transfers.py) with open adapters."""
import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import closing

from ..base import Check, TransferReport, VerificationReport
from .base import DatabaseAdapter, DatabaseError, new_backup_id
from .column_types import Column, Table, column_normaliser, convert_rows, read_converter, write_converter

logger = logging.getLogger(__name__)

#: Progress is reported at least this often (seconds) while rows move; it is also where a cancel lands.
REPORT_INTERVAL = 0.25


def _selected(source: DatabaseAdapter, conn, tables) -> list[str]:
    available = source.list_tables(conn)
    if tables is None:
        return available
    missing = [name for name in tables if name not in available]
    if missing:
        raise DatabaseError(f"{source.label} has no table {', '.join(missing)}.")
    return list(dict.fromkeys(tables))


def destination_table(source: DatabaseAdapter, destination: DatabaseAdapter, table: Table) -> Table:
    """The shape `table` takes at the destination: its own declarations between databases of one dialect, mapped
    neutral types otherwise (an untyped column becomes text)."""
    same = source.dialect == destination.dialect
    columns = [Column(c.name, c.type or "text",
                      c.native if same else destination.declaration(
                          Column(c.name, c.type or "text", ""), in_primary_key=c.name in table.primary_key),
                      c.nullable)
               for c in table.columns]
    return Table(table.name, columns, list(table.primary_key))


class _Reporter:
    """Turns rows moved into progress calls: totals over all tables, the current table's count in `step`."""

    def __init__(self, progress, *, total_rows: int, total_bytes: int):
        self.progress, self.total_rows, self.total_bytes = progress, total_rows, total_bytes
        self.done = 0
        self.table, self.table_done, self.table_total = "", 0, 0
        self.last = 0.0

    def _call(self, message=None):
        done_bytes = self.total_bytes * self.done // self.total_rows if self.total_rows else 0
        self.progress(done_items=self.done, total_items=self.total_rows, done_bytes=done_bytes,
                      total_bytes=self.total_bytes,
                      step=f"copying {self.table} ({self.table_done}/{self.table_total} rows)", message=message)
        self.last = time.monotonic()

    def start(self, table: str, rows: int):
        self.table, self.table_done, self.table_total = table, 0, rows
        self._call()

    def rows(self, count: int):
        self.done += count
        self.table_done += count
        if time.monotonic() - self.last >= REPORT_INTERVAL:
            self._call()

    def finish(self, seconds: float):
        self._call(message=f"Copied {self.table}: {self.table_done} rows in {seconds:.1f} s.")


def copy_database(source: DatabaseAdapter, destination: DatabaseAdapter, *, tables: list[str] | None = None,
                  batch_size: int = 5000, progress: Callable[..., None]) -> TransferReport:
    """Copy the schema (columns, types, nullability, primary key) and rows of each table from `source` to
    `destination`, one table at a time, replacing a destination table of the same name.

    Each table lands all or nothing (one transaction, or a staging table swapped in on MySQL), so a cancel
    (raised by `progress`) or a failure leaves every destination table either as it was or fully copied.
    Memory stays flat: rows are streamed in batches of `batch_size` from a server-side cursor. Indexes other than
    the primary key, foreign keys, defaults and triggers are not copied.
    """
    started = time.monotonic()
    with closing(source.open(role="source")) as src, closing(destination.open(role="destination")) as dst:
        names = _selected(source, src, tables)
        shapes = {name: source.read_table(src, name) for name in names}
        counts = {name: source.count_rows(src, name) for name in names}
        sizes = source.estimate_bytes(counts, {name: source.table_bytes(src, name) for name in names})
        reporter = _Reporter(progress, total_rows=sum(counts.values()), total_bytes=sum(sizes.values()))
        destination.prepare_destination(dst)
        details, bytes_copied = {}, 0
        for name in names:
            table_started = time.monotonic()
            reporter.start(name, counts[name])
            before = reporter.done
            target = destination_table(source, destination, shapes[name])
            if source.dialect == destination.dialect == "postgresql":
                bytes_copied += destination.pipe_table(src, source, dst, target, reporter.rows)
            else:
                _copy_rows(source, src, destination, dst, shapes[name], target, batch_size, reporter)
                bytes_copied += sizes[name]
            seconds = time.monotonic() - table_started
            reporter.finish(seconds)
            details[name] = {"rows": reporter.done - before, "seconds": round(seconds, 3)}
            logger.info("Copied table %s: %s rows in %.2f s", name, details[name]["rows"], seconds)
    return TransferReport(items_copied=reporter.done, bytes_copied=bytes_copied, seconds=time.monotonic() - started,
                          details={"tables": details})


def _copy_rows(source, src, destination, dst, shape: Table, target: Table, batch_size: int, reporter):
    if source.dialect == destination.dialect:
        converters = [None] * len(shape.columns)
    else:
        converters = [_compose(read_converter(source.dialect, c.type), write_converter(destination.dialect, t.type))
                      for c, t in zip(shape.columns, target.columns)]
    as_text = frozenset(c.name for c in shape.columns if c.type is None)

    def batches():
        with closing(source.stream(src, shape, batch_size=batch_size, as_text=as_text)) as stream:
            for batch in stream:
                yield convert_rows(batch, converters)
                reporter.rows(len(batch))   # after the destination took the batch; may raise to cancel

    destination.replace_table(dst, target, batches())


def _compose(first, second):
    if first is None or second is None:
        return first or second
    return lambda value: second(first(value))


# --- Verification --------------------------------------------------------------------------------------------------

def _table_checksum(adapter: DatabaseAdapter, conn, table: Table, *, like: Table | None = None,
                    batch_size: int = 5000) -> tuple[int, str]:
    """(rows, checksum) of a table: every row's values normalised (so a boolean equals a TINYINT(1) true, 12.50
    equals 12.5, an aware datetime its naive UTC), hashed, and the hashes added modulo 2**128.

    The sum makes the checksum independent of row order, which no ORDER BY could guarantee across dialects:
    collations differ (MariaDB's case-insensitive default, PostgreSQL's locale, SQLite's bytes), so ordering by a
    text key would put the same rows in different orders on the two sides. Duplicate rows still count, since a
    sum (unlike XOR) does not cancel them. It also needs no sort on the server, so it streams in flat memory.

    Values are normalised as the columns of `like` (the source's table, when checking a destination): a MySQL
    FLOAT that became a SQLite REAL still compares as single precision, a JSON document stored as text as JSON.
    """
    converters = [read_converter(adapter.dialect, c.type) for c in table.columns]
    normalisers = [column_normaliser(c.type) for c in (like or table).columns]
    as_text = frozenset(c.name for c in table.columns if c.type is None)
    pairs = list(zip(converters, normalisers))
    total = rows = 0
    blake = hashlib.blake2b
    with closing(adapter.stream(conn, table, batch_size=batch_size, as_text=as_text)) as stream:
        for batch in stream:
            for row in batch:
                text = "\x00".join([norm(v if v is None or conv is None else conv(v))
                                    for (conv, norm), v in zip(pairs, row)])
                total += int.from_bytes(blake(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "big")
            rows += len(batch)
    return rows, f"{total % (1 << 128):032x}"


def table_checksums(adapter: DatabaseAdapter, *, tables: list[str] | None = None) -> dict[str, dict]:
    """{table: {"rows": n, "checksum": hex}} for the adapter's tables (or `tables`)."""
    with closing(adapter.open()) as conn:
        result = {}
        for name in _selected(adapter, conn, tables):
            rows, checksum = _table_checksum(adapter, conn, adapter.read_table(conn, name))
            result[name] = {"rows": rows, "checksum": checksum}
        return result


def verify_database(source: DatabaseAdapter, destination: DatabaseAdapter, *,
                    tables: list[str] | None = None) -> VerificationReport:
    """Row counts and checksums of each table, computed the same way on both sides; one mismatch line per
    table that differs (missing, a column missing, a different count or different contents)."""
    mismatches = []
    with closing(source.open()) as src, closing(destination.open()) as dst:
        names = _selected(source, src, tables)
        present = set(destination.list_tables(dst))
        for name in names:
            if name not in present:
                mismatches.append(f"{name}: missing at the destination")
                continue
            shape = source.read_table(src, name)
            theirs = {c.name: c for c in destination.read_table(dst, name).columns}
            absent = [c.name for c in shape.columns if c.name not in theirs]
            if absent:
                mismatches.append(f"{name}: columns missing at the destination: {', '.join(absent)}")
                continue
            mirror = Table(name, [theirs[c.name] for c in shape.columns], shape.primary_key)
            source_rows, source_sum = _table_checksum(source, src, shape)
            destination_rows, destination_sum = _table_checksum(destination, dst, mirror, like=shape)
            if source_rows != destination_rows:
                mismatches.append(f"{name}: {source_rows} rows at the source, {destination_rows} at the destination")
            elif source_sum != destination_sum:
                mismatches.append(f"{name}: contents differ ({source_rows} rows, checksums "
                                  f"{source_sum[:12]} vs {destination_sum[:12]})")
    return VerificationReport(passed=not mismatches, checked=len(names), mismatches=mismatches)


# --- Planning, backup and restore ----------------------------------------------------------------------------------

def plan_checks(source: DatabaseAdapter, destination: DatabaseAdapter, *,
                tables: list[str] | None = None) -> list[Check]:
    """What only the pair can tell: requested tables missing at the source, and destination tables the copy
    would replace (a warning: backup_before keeps them for rollback)."""
    try:
        with closing(source.open()) as src, closing(destination.open(role="destination")) as dst:
            names = _selected(source, src, tables)
            clashes = sorted(set(names) & set(destination.list_tables(dst)))
    except DatabaseError as error:
        return [Check("tables", False, str(error))]
    if not clashes:
        return [Check("conflicts", True, "No destination table would be replaced.")]
    return [Check("conflicts", False, f"Replaces {len(clashes)} existing destination tables: "
                  f"{', '.join(clashes[:20])}.", "warning")]


def backup_database(destination: DatabaseAdapter, tables: list[str] | None = None, *,
                    source: DatabaseAdapter | None = None) -> dict:

    """Snapshot what a copy of `tables` will overwrite at `destination`, as a JSON-serializable dict for
    restore_database(). With no `tables`, the source's tables when `source` is given, else the whole destination
    (then a restore also drops tables created since). PostgreSQL keeps the originals in a schema
    `tessera_backup_<id>`, MySQL renames them aside as `tessera_bak_<id>_<n>`, SQLite copies the file."""
    if tables is None and source is not None:
        with closing(source.open()) as src:
            tables = source.list_tables(src)
    backup = destination.backup(None if tables is None else list(tables), new_backup_id())
    logger.info("Backed up %s tables of %s", len(backup.get("tables") or {}), destination.label)
    return backup


def restore_database(destination: DatabaseAdapter, backup: dict) -> None:
    """Put the destination back exactly as backup_database() found it (same tables, schema and rows) and
    release the backup. Tables the copy created that did not exist then are dropped."""
    if backup.get("engine") != destination.dialect:
        raise DatabaseError(f"This backup was taken from a {backup.get('engine')} database.")
    destination.restore(backup)
    logger.info("Restored %s from its backup", destination.label)


def discard_backup(destination: DatabaseAdapter, backup: dict) -> None:
    """Drop a backup that is no longer needed (the migration succeeded and rollback is no longer offered)."""
    destination.discard_backup(backup)
