"""SQL column types: table shapes read from any dialect, in one neutral vocabulary of column types, and the value
conversions that let a row read from one dialect be written into another and compared with it afterwards.

A column carries two types: `native`, exactly as its dialect declares it (used when source and destination speak the
same dialect, so a PostgreSQL→PostgreSQL copy keeps `timestamp(3) with time zone` or `integer[]` as they are), and
`type`, the neutral one that crosses dialects. The neutral vocabulary:

    boolean  smallint  integer  bigint  numeric(p,s)|numeric  real  double  varchar(n)  text
    date  time  timestamp  timestamptz  bytes  json  uuid
"""
import datetime as dt
import json
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_TYPE = re.compile(r"^(?P<base>[a-z ]+?)\s*(?:\((?P<args>[^)]*)\))?$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str          # neutral type, see the module docstring
    native: str        # the dialect's own declaration, for same-dialect copies
    nullable: bool = True


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def as_dict(self) -> dict:
        return {"name": self.name, "primary_key": self.primary_key,
                "columns": [{"name": c.name, "type": c.type, "native": c.native, "nullable": c.nullable}
                            for c in self.columns]}


def split_type(neutral: str) -> tuple[str, list[int]]:
    """"numeric(10,2)" -> ("numeric", [10, 2])."""
    match = _TYPE.match(neutral.strip().lower())
    if not match:
        return neutral, []
    args = [int(a) for a in (match["args"] or "").split(",") if a.strip().isdigit()]
    return match["base"], args


# --- Reading: dialect declarations -> neutral types --------------------------------------------------------------

def neutral_from_sqlite(declared: str) -> str:
    """SQLite's dynamic typing by affinity (https://sqlite.org/datatype3.html §3.1), refined by what the declaration
    says beyond affinity (BOOLEAN, DATETIME, DECIMAL(p,s), VARCHAR(n)) since that is what the application meant."""
    decl = (declared or "").strip().lower()
    base, args = split_type(decl)
    if "bool" in decl:
        return "boolean"
    if "int" in decl:
        return "bigint"   # SQLite integers are 64-bit whatever the declaration
    if base in ("varchar", "character varying", "nvarchar", "varying character", "nchar", "native character",
                "character", "char") and args:
        return f"varchar({args[0]})"
    if any(word in decl for word in ("char", "clob", "text")):
        return "text"
    if "blob" in decl:
        return "bytes"
    if any(word in decl for word in ("real", "floa", "doub")):
        return "double"
    if not decl:
        return "text"     # no declared type: values of any class, carried as their text
    if "timestamptz" in decl:
        return "timestamptz"
    if "datetime" in decl or "timestamp" in decl:
        return "timestamp"
    if base == "date":
        return "date"
    if base == "time":
        return "time"
    if "json" in decl:
        return "json"
    if "uuid" in decl:
        return "uuid"
    if base in ("decimal", "numeric") and len(args) == 2:
        return f"numeric({args[0]},{args[1]})"
    if base in ("decimal", "numeric") and len(args) == 1:
        return f"numeric({args[0]},0)"
    return "numeric"  # NUMERIC affinity


_PG_SIMPLE = {
    "boolean": "boolean", "smallint": "smallint", "integer": "integer", "bigint": "bigint", "real": "real",
    "double precision": "double", "text": "text", "date": "date", "bytea": "bytes", "json": "json",
    "jsonb": "json", "uuid": "uuid", "time without time zone": "time", "time with time zone": "time",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz", "numeric": "numeric",
    "character varying": "text", "character": "text",
}


def neutral_from_postgresql(data_type: str, *, length: int | None, precision: int | None,
                            scale: int | None) -> str | None:
    """information_schema.columns.data_type (+ its length/precision) -> neutral; None when it has no neutral
    equivalent (arrays, ranges, enums, network types…), which crosses dialects as its text form."""
    if data_type in ("character varying", "character") and length:
        return f"varchar({length})"
    if data_type == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    return _PG_SIMPLE.get(data_type)


def neutral_from_mysql(column_type: str) -> str | None:
    """information_schema.columns.column_type ("int(10) unsigned", "tinyint(1)", "decimal(12,2)") -> neutral."""
    decl = column_type.lower()
    unsigned = "unsigned" in decl
    base, args = split_type(decl.replace("unsigned", "").replace("zerofill", "").strip())
    if base == "tinyint" and args == [1]:
        return "boolean"      # MySQL's BOOLEAN is TINYINT(1): the declaration is the source saying so
    if base == "bit":
        return "boolean" if args in ([], [1]) else "bigint"
    if base in ("tinyint", "year"):
        return "smallint"
    if base == "smallint":
        return "integer" if unsigned else "smallint"
    if base in ("mediumint",):
        return "integer"
    if base in ("int", "integer"):
        return "bigint" if unsigned else "integer"
    if base == "bigint":
        return "numeric(20,0)" if unsigned else "bigint"
    if base in ("decimal", "numeric", "dec", "fixed"):
        precision, scale = (args + [10, 0])[:2] if args else (10, 0)
        return f"numeric({precision},{scale})"
    if base == "float":
        return "real"
    if base in ("double", "double precision", "real"):
        return "double"
    if base in ("varchar", "char") and args:
        return f"varchar({args[0]})"
    if base in ("tinytext", "text", "mediumtext", "longtext", "enum", "set"):
        return "text"
    if base in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return "bytes"
    if base in ("datetime", "timestamp"):
        return "timestamp"
    if base in ("date", "time", "json", "uuid"):
        return base
    return None


# --- Writing: neutral types -> dialect declarations ---------------------------------------------------------------

def postgresql_declaration(neutral: str | None) -> str:
    base, args = split_type(neutral or "text")
    if base == "varchar":
        return f"varchar({args[0]})"
    if base == "numeric":
        return f"numeric({args[0]},{args[1]})" if args else "numeric"
    return {"double": "double precision", "bytes": "bytea", "json": "jsonb"}.get(base, base)


def mysql_declaration(neutral: str | None, *, in_primary_key: bool = False) -> str:
    base, args = split_type(neutral or "text")
    if base == "varchar":
        # utf8mb4 rows are limited to 65,535 bytes: long varchars become text, as MySQL itself would advise
        return f"varchar({args[0]})" if args[0] <= 4000 else "longtext"
    if base == "numeric":
        return f"decimal({min(args[0], 65)},{min(args[1], 30)})" if args else "decimal(65,30)"
    if base == "text" and in_primary_key:
        return "varchar(255)"   # a key needs a bounded length
    if base == "bytes" and in_primary_key:
        return "varbinary(255)"
    return {"boolean": "tinyint(1)", "integer": "int", "double": "double", "real": "float", "text": "longtext",
            "time": "time(6)", "timestamp": "datetime(6)", "timestamptz": "datetime(6)", "bytes": "longblob",
            "json": "longtext", "uuid": "char(36)"}.get(base, base)


def sqlite_declaration(neutral: str | None) -> str:
    base, args = split_type(neutral or "text")
    if base == "numeric":
        return f"DECIMAL({args[0]},{args[1]})" if args else "NUMERIC"
    if base == "varchar":
        return f"VARCHAR({args[0]})"
    return {"boolean": "BOOLEAN", "smallint": "SMALLINT", "integer": "INTEGER", "bigint": "BIGINT",
            "real": "REAL", "double": "DOUBLE PRECISION", "text": "TEXT", "date": "DATE", "time": "TIME",
            "timestamp": "DATETIME", "timestamptz": "TIMESTAMPTZ", "bytes": "BLOB", "json": "JSON",
            "uuid": "UUID"}.get(base, "TEXT")


# --- Values -------------------------------------------------------------------------------------------------------

def utc_naive(value: dt.datetime) -> dt.datetime:
    """Engines without a zone-aware type store UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _parse_datetime(value):
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return value


def _parse(kind):
    def parse(value):
        return kind.fromisoformat(value) if isinstance(value, str) else value
    return parse


def _decimal(value):
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _text(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _mysql_time(value):
    if isinstance(value, dt.timedelta):   # PyMySQL returns TIME as a duration
        return (dt.datetime.min + value).time() if dt.timedelta(0) <= value < dt.timedelta(days=1) else value
    return value


def _bit(value):
    return bool(int.from_bytes(value, "big")) if isinstance(value, bytes) else bool(value)


def read_converter(dialect: str, neutral: str | None) -> Callable[[Any], Any] | None:
    """A function turning what `dialect`'s driver returns for a column into the Python value of its neutral type,
    or None when the driver's value is already that. Only SQLite and MySQL need help: SQLite stores dates as text
    and booleans as integers, MySQL returns TINYINT(1) as int and TIME as timedelta."""
    base, _ = split_type(neutral or "text")
    if dialect == "sqlite":
        return {"boolean": bool, "smallint": int, "integer": int, "bigint": int, "numeric": _decimal,
                "real": float, "double": float, "varchar": _text, "text": _text,
                "date": _parse(dt.date), "time": _parse(dt.time), "timestamp": _parse_datetime,
                "timestamptz": _parse_datetime, "bytes": bytes, "uuid": str}.get(base)
    if dialect == "mysql":
        return {"boolean": _bit, "time": _mysql_time}.get(base)
    return None


def _json_text(value):
    return value if isinstance(value, str) else json.dumps(value)


def write_converter(dialect: str, neutral: str | None) -> Callable[[Any], Any] | None:
    """The inverse: neutral Python values into what `dialect`'s driver accepts for that column."""
    base, _ = split_type(neutral or "text")
    if base == "json":
        return _json_text
    if dialect == "sqlite":
        return {"boolean": int, "numeric": str, "date": dt.date.isoformat, "time": dt.time.isoformat,
                "timestamp": lambda v: v.isoformat(" "), "timestamptz": lambda v: v.isoformat(" "),
                "uuid": str, "bytes": bytes}.get(base)
    if dialect == "mysql":
        return {"timestamp": utc_naive, "timestamptz": utc_naive, "uuid": str, "bytes": bytes,
                "time": lambda v: v.replace(tzinfo=None)}.get(base)
    if dialect == "postgresql":
        return {"bytes": bytes}.get(base)
    return None


def convert_rows(rows: list[tuple[Any, ...]], converters: list[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    """Apply per-column converters (None = as is) to a batch of rows."""
    if not any(converters):
        return rows
    pairs = list(enumerate(converters))
    return [tuple(value if value is None or conv is None else conv(value)
                  for (_, conv), value in zip(pairs, row)) for row in rows]


# --- Normalised values for checksums ------------------------------------------------------------------------------

def _n_decimal(value: Decimal) -> str:
    if not value.is_finite():
        return "n" + str(value)
    return "n" + format(value.normalize(), "f")


def _n_datetime(value: dt.datetime) -> str:
    return "t" + utc_naive(value).isoformat()


_NORMALISE = {
    type(None): lambda v: "N",
    bool: lambda v: "T" if v else "F",
    int: lambda v: "n" + str(v),
    Decimal: _n_decimal,
    float: lambda v: "f" + repr(v),
    str: lambda v: "s" + v,
    bytes: lambda v: "x" + v.hex(),
    bytearray: lambda v: "x" + v.hex(),
    memoryview: lambda v: "x" + bytes(v).hex(),
    dt.datetime: _n_datetime,
    dt.date: lambda v: "d" + v.isoformat(),
    dt.time: lambda v: "h" + v.replace(tzinfo=None).isoformat(),
    dt.timedelta: lambda v: "i" + str(v),
    uuid.UUID: lambda v: "s" + str(v),
    dict: lambda v: "j" + json.dumps(v, sort_keys=True, separators=(",", ":")),
    list: lambda v: "j" + json.dumps(v, sort_keys=True, separators=(",", ":")),
}


def normalise(value: Any) -> str:
    """One token per value, equal across dialects for values that mean the same: 1 == True is not conflated,
    but 12.50 (numeric) == 12.5 (SQLite REAL read as Decimal), naive UTC == aware, uuid == its text."""
    kind = type(value)
    if kind in _NORMALISE:
        return _NORMALISE[kind](value)
    for known, function in _NORMALISE.items():
        if isinstance(value, known):
            return function(value)
    return "s" + str(value)


def _n_real(value):
    if isinstance(value, float):   # single precision: compare the stored 32 bits, not a decimal rendering
        return "r" + struct.pack(">f", value).hex()
    return normalise(value)


def _n_json(value):
    if value is None:
        return "N"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return "s" + value
    return "j" + json.dumps(value, sort_keys=True, separators=(",", ":"))


def column_normaliser(neutral: str | None) -> Callable[[Any], str]:
    base, _ = split_type(neutral or "text")
    return {"real": _n_real, "json": _n_json}.get(base, normalise)
