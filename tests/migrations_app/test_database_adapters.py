"""Database adapters and the transfer engine on this machine's real PostgreSQL and MariaDB: copies across engines,
verification, cancel, backup and restore, confinement and secrets.

Every database here is a scratch one named tessera_mig_<random>, dropped afterwards. A test that needs a server
that does not answer is skipped, saying which (CI runs them all).
"""
import datetime as dt
import logging
import socket
import sqlite3
import uuid
from contextlib import closing
from decimal import Decimal

import psycopg
import pymysql
import pytest

from apps.jobs.progress import JobCancelled
from apps.migrations_app.adapters.confinement import Confinement
from apps.migrations_app.adapters.databases import (MySQLAdapter, PostgreSQLAdapter, SQLiteAdapter, backup_database,
                                                    copy_database, restore_database, table_checksums,
                                                    verify_database)
from apps.migrations_app.adapters.databases import transfer

HOST = "127.0.0.1"
EVENTS = 20_000
SECRET = "s3cret-CANARY-9d41"


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


needs_postgresql = pytest.mark.skipif(not _answers(5432), reason="PostgreSQL does not answer on 127.0.0.1:5432")
needs_mariadb = pytest.mark.skipif(not _answers(3306), reason="MariaDB does not answer on 127.0.0.1:3306")


@pytest.fixture(scope="module")
def confinement(tmp_path_factory):
    root = tmp_path_factory.mktemp("databases")
    return Confinement(allowed_roots=(root,), allowed_db_hosts=(HOST,), passwordless_hosts=(HOST,))


@pytest.fixture(scope="module")
def root(confinement):
    return confinement.allowed_roots[0]


# --- Scratch databases ---------------------------------------------------------------------------------------------

def _pg_admin():
    return psycopg.connect(host=HOST, user="postgres", dbname="postgres", autocommit=True)


def _maria_admin():
    return pymysql.connect(host=HOST, user="root", password="", autocommit=True)


@pytest.fixture(scope="module")
def make_postgresql(confinement):
    """new(password="") -> a PostgreSQLAdapter on a fresh schema of one scratch database (dropping a database
    costs seconds; a schema is free), connections searching that schema first."""
    if not _answers(5432):
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    database = f"tessera_mig_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')

    def new(password=""):
        return PostgreSQLAdapter({"type": "postgresql", "host": HOST, "port": 5432, "database": database,
                                  "username": "postgres", "password": password,
                                  "schema": f"s_{uuid.uuid4().hex[:10]}"}, confinement=confinement)

    yield new
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _pg(adapter):
    """A connection to the adapter's database that finds its schema's tables by their bare names."""
    conn = adapter.connect()
    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{adapter.schema}"')
    conn.execute(f'SET search_path TO "{adapter.schema}"')
    return conn


@pytest.fixture(scope="module")
def make_mariadb(confinement):
    if not _answers(3306):
        pytest.skip("MariaDB does not answer on 127.0.0.1:3306")
    created = []

    def new():
        name = f"tessera_mig_{uuid.uuid4().hex[:10]}"
        with closing(_maria_admin()) as admin, closing(admin.cursor()) as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        created.append(name)
        return MySQLAdapter({"type": "mysql", "host": HOST, "port": 3306, "database": name, "username": "root",
                             "password": ""}, confinement=confinement)

    yield new
    with closing(_maria_admin()) as admin, closing(admin.cursor()) as cursor:
        for name in created:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def make_sqlite(confinement, root):
    def new():
        return SQLiteAdapter({"type": "sqlite", "path": str(root / f"{uuid.uuid4().hex[:10]}.sqlite3")},
                             confinement=confinement)
    return new


@pytest.fixture
def make_destination(request, make_sqlite):
    """new(engine) -> an empty destination of that engine."""
    def new(engine):
        return {"postgresql": lambda: request.getfixturevalue("make_postgresql")(),
                "mysql": lambda: request.getfixturevalue("make_mariadb")(),
                "sqlite": make_sqlite}[engine]()
    return new


# --- Source data: the same people in every engine, plus 20k events -------------------------------------------------

PEOPLE = [
    (1, "Zoë Ångström", "Café ☕ — naïve résumé 日本語", True, Decimal("1234.50"), dt.date(1990, 2, 28),
     dt.datetime(2024, 1, 2, 3, 4, 5, 123456), b"\x00\x01\xffbinary", 3.25),
    (2, "Bob", None, False, Decimal("-0.01"), None, None, None, None),
    (3, "Ünïcødé 🚀", "", None, None, dt.date(2000, 1, 1), dt.datetime(1999, 12, 31, 23, 59, 59), b"", -1e-3),
]


def _events():
    kinds = ["login", "logout", "purchase", "refund", "é-vent"]
    base = dt.datetime(2024, 6, 1)
    for i in range(1, EVENTS + 1):
        yield (i, kinds[i % 5], Decimal(i % 1000) / 8, base + dt.timedelta(seconds=i * 37), i % 3 == 0,
               None if i % 7 == 0 else f"note {i}")


@pytest.fixture(scope="module")
def sqlite_source(confinement, root):
    path = root / "source.sqlite3"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, bio TEXT, "
                     "active BOOLEAN, balance DECIMAL(12,2), born DATE, joined DATETIME, photo BLOB, score REAL)")
        conn.executemany("INSERT INTO people VALUES (?,?,?,?,?,?,?,?,?)",
                         [(*p[:4], None if p[4] is None else str(p[4]),
                           None if p[5] is None else p[5].isoformat(),
                           None if p[6] is None else p[6].isoformat(" "), *p[7:]) for p in PEOPLE])
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, amount NUMERIC(10,3), "
                     "at TIMESTAMP, ok BOOLEAN, note VARCHAR(40))")
        conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)",
                         [(i, k, str(a), at.isoformat(" "), ok, n) for i, k, a, at, ok, n in _events()])
        conn.execute("CREATE TABLE tags (label TEXT, weight INT)")   # no primary key, duplicate rows
        conn.executemany("INSERT INTO tags VALUES (?,?)", [("a", 1), ("a", 1), ("B", None)])
    return SQLiteAdapter({"type": "sqlite", "path": str(path)}, confinement=confinement)


@pytest.fixture(scope="module")
def mariadb_source(make_mariadb):
    source = make_mariadb()
    with closing(source.connect()) as conn, closing(conn.cursor()) as cursor:
        cursor.execute("CREATE TABLE people (id INT UNSIGNED PRIMARY KEY, name VARCHAR(100) NOT NULL, bio LONGTEXT,"
                       " active TINYINT(1), balance DECIMAL(12,2), born DATE, joined DATETIME(6), photo BLOB, "
                       "score DOUBLE, ratio FLOAT, wake TIME, level TINYINT) CHARACTER SET utf8mb4")
        cursor.executemany("INSERT INTO people VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                           [(*p, 1.1 if p[0] == 1 else None, dt.time(7, 30) if p[0] != 2 else None, p[0])
                            for p in PEOPLE])
        cursor.execute("CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL, "
                       "amount DECIMAL(10,3), at DATETIME, ok BOOLEAN, note TEXT)")
        cursor.executemany("INSERT INTO events VALUES (%s,%s,%s,%s,%s,%s)", list(_events()))
        cursor.execute("CREATE TABLE tags (label VARCHAR(10), weight INT)")
        cursor.executemany("INSERT INTO tags VALUES (%s,%s)", [("a", 1), ("a", 1), ("B", None)])
        conn.commit()
    return source


@pytest.fixture(scope="module")
def postgresql_source(make_postgresql):
    source = make_postgresql()
    with closing(_pg(source)) as conn:
        conn.execute("CREATE TABLE people (id serial PRIMARY KEY, name varchar(100) NOT NULL, bio text, "
                     "active boolean, balance numeric(12,2), born date, joined timestamptz, photo bytea, "
                     "score double precision, prefs jsonb, token uuid, tags text[])")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO people (name, bio, active, balance, born, joined, photo, score, prefs, token, tags) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s)",
                [(p[1], p[2], p[3], p[4], p[5], p[6] and p[6].replace(tzinfo=dt.timezone(dt.timedelta(hours=2))),
                  p[7], p[8], '{"b": [1, 2], "a": "é"}' if p[0] == 1 else None,
                  uuid.UUID(int=p[0]), ["x", "y, z"] if p[0] != 2 else None) for p in PEOPLE])
        conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, amount numeric(10,3), "
                     "at timestamp, ok boolean, note varchar(40))")
        with conn.cursor() as cursor, cursor.copy("COPY events FROM STDIN") as copy:
            for row in _events():
                copy.write_row(row)
    return source


def _no_progress(**kwargs):
    pass


class Recorder:
    def __init__(self, cancel_after_rows=None, fail_in_table=None):
        self.calls, self.cancel_after_rows, self.fail_in_table = [], cancel_after_rows, fail_in_table

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if self.cancel_after_rows is not None and kwargs["done_items"] >= self.cancel_after_rows:
            raise JobCancelled("Cancelled on request.")
        if self.fail_in_table and kwargs["step"].startswith(f"copying {self.fail_in_table} ") \
                and kwargs["done_items"]:
            raise RuntimeError("the network went away")


def _pg_types(adapter, table):
    with closing(adapter.connect()) as conn:
        return dict(conn.execute("SELECT column_name, format_type(atttypid, atttypmod) FROM information_schema.columns"
                                 " JOIN pg_attribute ON attrelid = %s::regclass AND attname = column_name "
                                 "WHERE table_schema = %s AND table_name = %s",
                                 [f'"{adapter.schema}"."{table}"', adapter.schema, table]).fetchall())


# --- Copies across engines -----------------------------------------------------------------------------------------

def test_sqlite_database_moves_into_postgresql_with_rows_and_checksums_verified(sqlite_source, make_postgresql,
                                                                                 monkeypatch):
    destination = make_postgresql()
    progress = Recorder()
    monkeypatch.setattr(transfer, "REPORT_INTERVAL", 0)   # this machine copies 20k rows faster than one interval

    report = copy_database(sqlite_source, destination, batch_size=3000, progress=progress)
    verification = verify_database(sqlite_source, destination)

    assert report.items_copied == EVENTS + 6
    assert report.details["tables"]["events"]["rows"] == EVENTS
    assert verification.passed, verification.mismatches
    assert verification.checked == 3
    assert _pg_types(destination, "people") == {
        "id": "bigint", "name": "character varying(100)", "bio": "text", "active": "boolean",
        "balance": "numeric(12,2)", "born": "date", "joined": "timestamp without time zone", "photo": "bytea",
        "score": "double precision"}
    assert progress.calls[-1]["done_items"] == progress.calls[-1]["total_items"] == EVENTS + 6
    assert any("events (" in call["step"] and 0 < int(call["step"].split("(")[1].split("/")[0]) < EVENTS
               for call in progress.calls), "progress is reported within a table, not only between tables"


def test_mariadb_database_moves_into_postgresql_with_rows_and_checksums_verified(mariadb_source, make_postgresql):
    destination = make_postgresql()

    report = copy_database(mariadb_source, destination, progress=_no_progress)
    verification = verify_database(mariadb_source, destination)

    assert report.items_copied == EVENTS + 6
    assert verification.passed, verification.mismatches
    assert _pg_types(destination, "people") == {
        "id": "bigint", "name": "character varying(100)", "bio": "text", "active": "boolean",
        "balance": "numeric(12,2)", "born": "date", "joined": "timestamp without time zone", "photo": "bytea",
        "score": "double precision", "ratio": "real", "wake": "time without time zone", "level": "smallint"}
    with closing(destination.connect()) as conn:
        conn.execute(f'SET search_path TO "{destination.schema}"')
        assert conn.execute("SELECT name, active, balance, photo FROM people WHERE id = 1").fetchone() == (
            "Zoë Ångström", True, Decimal("1234.50"), b"\x00\x01\xffbinary")


def test_postgresql_database_moves_into_postgresql_keeping_its_own_types(postgresql_source, make_postgresql):
    destination = make_postgresql()

    report = copy_database(postgresql_source, destination, tables=["people", "events"], progress=_no_progress)
    verification = verify_database(postgresql_source, destination, tables=["people", "events"])

    assert report.items_copied == EVENTS + 3
    assert verification.passed, verification.mismatches
    assert _pg_types(destination, "people")["joined"] == "timestamp with time zone"
    assert _pg_types(destination, "people")["tags"] == "text[]"
    with closing(_pg(destination)) as conn:
        assert conn.execute("SELECT prefs, tags FROM people WHERE name = 'Zoë Ångström'").fetchone() == (
            {"a": "é", "b": [1, 2]}, ["x", "y, z"])


@pytest.mark.parametrize("engine", ["mysql", "sqlite", "postgresql"])
def test_a_postgresql_database_moves_into_every_engine_verified(engine, postgresql_source, make_destination):
    destination = make_destination(engine)

    copy_database(postgresql_source, destination, progress=_no_progress)
    verification = verify_database(postgresql_source, destination)

    assert verification.passed, verification.mismatches


def test_a_mariadb_database_moves_into_sqlite_verified(mariadb_source, make_sqlite):
    destination = make_sqlite()

    copy_database(mariadb_source, destination, progress=_no_progress)

    assert verify_database(mariadb_source, destination).passed


# --- Verification ----------------------------------------------------------------------------------------------------

def test_a_changed_row_at_the_destination_fails_verification_naming_the_table(sqlite_source, make_postgresql):
    destination = make_postgresql()
    copy_database(sqlite_source, destination, progress=_no_progress)
    with closing(_pg(destination)) as conn:
        conn.execute("UPDATE events SET amount = amount + 0.001 WHERE id = 12345")

    verification = verify_database(sqlite_source, destination)

    assert not verification.passed
    assert len(verification.mismatches) == 1
    assert verification.mismatches[0].startswith("events: contents differ")


def test_a_missing_row_fails_verification_with_both_counts(sqlite_source, make_postgresql):
    destination = make_postgresql()
    copy_database(sqlite_source, destination, tables=["tags"], progress=_no_progress)
    with closing(_pg(destination)) as conn:
        conn.execute("DELETE FROM tags WHERE ctid = (SELECT min(ctid) FROM tags WHERE label = 'a')")

    verification = verify_database(sqlite_source, destination, tables=["tags"])

    assert verification.mismatches == ["tags: 3 rows at the source, 2 at the destination"]


# --- Cancel, backup and restore ----------------------------------------------------------------------------------

def _existing_tables(destination):
    """Give a destination a table the copy will replace (events, three rows) and one it does not touch."""
    ddl = {"postgresql": ["CREATE TABLE events (id integer PRIMARY KEY, kind text, at timestamptz)",
                          "CREATE TABLE keep (id serial PRIMARY KEY, v text)"],
           "mysql": ["CREATE TABLE events (id INT PRIMARY KEY, kind TEXT, at DATETIME)",
                     "CREATE TABLE keep (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)"],
           "sqlite": ["CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, at DATETIME)",
                      "CREATE TABLE keep (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)"]}[destination.dialect]
    mark = "%s" if destination.dialect != "sqlite" else "?"
    connect = _pg if destination.dialect == "postgresql" else (lambda side: side.connect(role="destination"))
    with closing(connect(destination)) as conn:
        cursor = conn.cursor()
        for statement in ddl:
            cursor.execute(statement)
        cursor.executemany(f"INSERT INTO events VALUES ({mark}, {mark}, {mark})",
                           [(i, f"old {i}", "2020-01-01 00:00:00") for i in (1, 2, 3)])
        cursor.executemany(f"INSERT INTO keep (v) VALUES ({mark})", [("x",), ("y",)])
        if destination.dialect == "mysql":
            conn.commit()


def _shape(destination):
    with closing(destination.open()) as conn:
        return {name: destination.read_table(conn, name).as_dict() for name in destination.list_tables(conn)}


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "sqlite"])
def test_a_cancelled_copy_leaves_every_destination_table_whole(engine, sqlite_source, make_destination,
                                                              monkeypatch):
    monkeypatch.setattr(transfer, "REPORT_INTERVAL", 0)
    destination = make_destination(engine)
    _existing_tables(destination)
    before = table_checksums(destination)

    with pytest.raises(JobCancelled):
        copy_database(sqlite_source, destination, batch_size=1000, progress=Recorder(cancel_after_rows=5000))

    after = table_checksums(destination)
    assert after == before, "the half-copied events table was rolled back, the untouched ones kept"
    with closing(destination.open()) as conn:
        assert destination.list_tables(conn) == ["events", "keep"]


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "sqlite"])
def test_restoring_a_backup_after_a_failed_copy_leaves_the_destination_identical(engine, sqlite_source,
                                                                                   make_destination):
    destination = make_destination(engine)
    _existing_tables(destination)
    before, shape_before = table_checksums(destination), _shape(destination)
    backup = backup_database(destination, ["events", "people", "tags"])
    assert backup == __import__("json").loads(__import__("json").dumps(backup)), "the backup is JSON"

    with pytest.raises(RuntimeError):   # people copied, events replaced midway, then the failure
        copy_database(sqlite_source, destination, batch_size=1000, progress=Recorder(fail_in_table="tags"))
    assert table_checksums(destination) != before
    restore_database(destination, backup)

    assert table_checksums(destination) == before
    assert _shape(destination) == shape_before


def test_a_postgresql_restore_keeps_the_original_table_and_drops_the_backup_schema(sqlite_source, make_postgresql):
    destination = make_postgresql()
    _existing_tables(destination)
    backup = backup_database(destination, source=sqlite_source)
    copy_database(sqlite_source, destination, progress=_no_progress)

    restore_database(destination, backup)

    with closing(_pg(destination)) as conn:
        assert not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [backup["backup_schema"]]).fetchone()
        assert conn.execute("INSERT INTO keep (v) VALUES ('z') RETURNING id").fetchone() == (3,), \
            "the serial sequence came back with its table"
        assert sorted(destination.list_tables(conn)) == ["events", "keep"]


# --- Confinement and secrets ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("adapter", [PostgreSQLAdapter, MySQLAdapter])
def test_a_host_outside_the_allow_list_is_a_field_error(adapter, confinement):
    serializer = adapter.config_serializer(data={"host": "10.0.0.9", "database": "shop", "username": "app"},
                                           context={"confinement": confinement})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["host"]


@pytest.mark.parametrize("spelling", ["../outside.sqlite3", "link/outside.sqlite3", "/etc/passwd"])
def test_a_sqlite_path_escaping_its_root_is_a_field_error(spelling, confinement, root, tmp_path):
    (root / "link").unlink(missing_ok=True)
    (root / "link").symlink_to(tmp_path, target_is_directory=True)

    serializer = SQLiteAdapter.config_serializer(data={"path": str(root / spelling) if spelling[0] != "/"
                                                       else spelling}, context={"confinement": confinement})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["path"]


def test_a_valid_config_keeps_the_password_write_only(confinement):
    serializer = PostgreSQLAdapter.config_serializer(
        data={"host": HOST, "database": "shop", "username": "app", "password": SECRET},
        context={"confinement": confinement})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["password"] == SECRET
    assert "password" not in serializer.data
    assert PostgreSQLAdapter.secret_fields == MySQLAdapter.secret_fields == ("password",)


@pytest.mark.parametrize("adapter, port", [(PostgreSQLAdapter, 5432), (MySQLAdapter, 3306), (PostgreSQLAdapter, 1)])
def test_the_password_appears_in_no_repr_check_or_log_record(adapter, port, confinement, caplog):
    config = {"host": HOST, "port": port, "database": "tessera_mig_absent", "username": "tessera_mig_nobody",
              "password": SECRET}
    side = adapter(config, confinement=confinement)
    caplog.set_level(logging.DEBUG)

    checks = side.checks(role="source")

    assert not checks[0].passed
    assert SECRET not in repr(side) and SECRET not in str(side)
    assert all(SECRET not in check.message for check in checks)
    assert all(SECRET not in record.getMessage() and SECRET not in repr(record.__dict__)
               for record in caplog.records)


@needs_postgresql
def test_the_password_stays_out_of_logs_during_a_copy(sqlite_source, make_postgresql, caplog):
    destination = make_postgresql(password=SECRET)   # trust authentication accepts it, so the copy runs
    caplog.set_level(logging.DEBUG)

    copy_database(sqlite_source, destination, tables=["people"], progress=_no_progress)
    verify_database(sqlite_source, destination, tables=["people"])

    assert any("people" in record.getMessage() for record in caplog.records)
    assert all(SECRET not in record.getMessage() and SECRET not in repr(record.__dict__)
               for record in caplog.records)


# --- Checks and measurement -----------------------------------------------------------------------------------------

def test_source_checks_and_measure_describe_what_will_move(sqlite_source):
    checks = {check.name: check for check in sqlite_source.checks(role="source")}
    measurement = sqlite_source.measure()

    assert checks["reachable"].passed and checks["permissions"].passed
    assert measurement.items == EVENTS + 6
    assert measurement.details["tables"] == {"events": EVENTS, "people": 3, "tags": 3}
    assert measurement.bytes > 0


def test_destination_checks_warn_about_tables_a_copy_would_replace(make_postgresql):
    destination = make_postgresql()
    _existing_tables(destination)

    checks = {check.name: check for check in destination.checks(role="destination")}

    assert checks["permissions"].passed
    assert not checks["conflicts"].passed and checks["conflicts"].severity == "warning"
    assert "events" in checks["conflicts"].message
