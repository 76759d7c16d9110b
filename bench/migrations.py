"""`make bench-migrations`: what the migration engine's transfers cost beside the plain tools, as numbers.

    python bench/migrations.py            # every section
    python bench/migrations.py files      # only the named ones

Sections (one function each, registered in SECTIONS; add a section by writing a function and one entry):

- files: the `directory` adapter's `copy_tree` (SHA-256 of every file, temporary file and rename, thread pool)
  against `cp -r` of the same tree. A tree of about BENCH_FILES_MB (default 300) MB of random bytes is built in a
  temporary directory: many small files, some medium ones and a few large ones. Each tool copies it
  BENCH_ROUNDS times, alternating, into a fresh directory; the disks are synced between runs (untimed), copies
  are removed at the end, nothing is dropped from the page cache. The medians give MB/s and the ratio adapter/cp.
  CPU seconds are printed too: cp -r copies in the kernel (copy_file_range) on one core, copy_tree also reads
  every byte into Python and hashes it (SHA-256 runs at about 1.9 GB/s per core here), so it needs about 2.5-3x
  cp's CPU and can match cp's wall time only with idle cores for its workers; on a busy machine the ratio moves
  with the load, which the header line shows.
- database: the PostgreSQL adapter's `copy_database` against `pg_dump -t big | psql` of a BENCH_DATABASE_ROWS
  (default 1M) row table of mixed types, between two scratch databases on 127.0.0.1:5432, BENCH_ROUNDS times
  alternating. The medians give rows/s and the ratio adapter/pg_dump; `verify_database` is timed apart.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
FILES_MB = int(os.environ.get("BENCH_FILES_MB", "300"))
PARALLEL = int(os.environ.get("BENCH_PARALLEL", "4"))
FILES_TARGET_RATIO = 0.8
MB = 1 << 20


def build_tree(root: Path, total_mb: int) -> dict:
    """About a quarter of the bytes in small files (4-64 KiB), a third in medium ones (1-4 MiB), the rest in a
    few large ones (32 MiB), spread over nested directories. Returns the shape for the report."""
    import random

    rng = random.Random(7)
    budget = total_mb * MB
    sizes = []
    small_budget, medium_budget = budget // 4, budget // 3
    while small_budget > 0:
        sizes.append(rng.randint(4, 64) << 10)
        small_budget -= sizes[-1]
    while medium_budget > 0:
        sizes.append(rng.randint(1, 4) * MB)
        medium_budget -= sizes[-1]
    large = max(1, (budget - sum(sizes)) // (32 * MB))
    sizes += [32 * MB] * large
    for index, size in enumerate(sizes):
        path = root / f"d{index % 7}" / f"e{index % 5}" / f"f{index % 3}" / f"file-{index:05}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stream:
            left = size
            while left:
                chunk = min(left, 4 * MB)
                stream.write(os.urandom(chunk))
                left -= chunk
    return {"files": len(sizes), "bytes": sum(sizes), "directories": sum(1 for p in root.rglob("*") if p.is_dir()),
            "small (4-64 KiB)": sum(s < MB for s in sizes), "medium (1-4 MiB)": sum(MB <= s <= 4 * MB for s in sizes),
            "large (32 MiB)": large}


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User and system time of this process and its finished children (cp), in seconds."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


#: BENCH_COLD=1: each run starts with the page cache dropped and ends when its files are on disk (needs root), as
#: when a migration moves data that is not hot in memory; by default both tools copy from and to the page cache.
COLD = os.environ.get("BENCH_COLD") == "1"


def start_cold():
    if COLD:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def durable(result=None):
    if COLD:
        os.sync()
    return result


def bench_files():
    from apps.migrations_app.adapters.confinement import Confinement
    from apps.migrations_app.adapters.directory import DirectoryAdapter, copy_tree, verify_tree

    work = Path(tempfile.mkdtemp(prefix="tessera-bench-files-", dir=os.environ.get("BENCH_DIR")))
    try:
        print(f"files: building a tree of about {FILES_MB} MB in {work} ...", flush=True)
        shape = build_tree(work / "source", FILES_MB)
        os.sync()  # the new tree's writeback must not land in the first round
        confinement = Confinement(allowed_roots=(work,))
        source = DirectoryAdapter({"path": str(work / "source")}, confinement=confinement)
        megabytes = shape["bytes"] / 1e6
        seconds = {"cp -r": [], "copy_tree": []}
        cpu = {"cp -r": [], "copy_tree": []}  # CPU seconds per run: the cost whatever else the machine is doing
        load_before = os.getloadavg()[0]

        # Copies are kept until the end: on ext4, creating files right after deleting as many is much slower
        # (it skips recently deleted inodes one by one), which would time the previous run's cleanup. Syncing
        # after each run (untimed) keeps its writeback out of the next run's timing.

        for round_number in range(ROUNDS):
            target = work / f"cp-{round_number}"
            start_cold()
            cpu_before = cpu_seconds()
            seconds["cp -r"].append(timed(lambda: durable(subprocess.run(["cp", "-r", str(work / "source"),
                                                                          str(target)], check=True))))
            cpu["cp -r"].append(cpu_seconds() - cpu_before)
            os.sync()
            destination = DirectoryAdapter({"path": str(work / f"adapter-{round_number}")}, confinement=confinement)
            start_cold()
            reports, cpu_before = [], cpu_seconds()
            seconds["copy_tree"].append(timed(lambda: durable(reports.append(copy_tree(
                source, destination, parallel=PARALLEL, progress=lambda **_: None)))))
            cpu["copy_tree"].append(cpu_seconds() - cpu_before)
            report = reports[0]
            assert report.items_copied == shape["files"] and not report.details["errors"], report.details["errors"]
            if round_number == ROUNDS - 1:
                verified = verify_tree(source, destination, progress=lambda **_: None,
                                       manifest=report.details["manifest"], parallel=PARALLEL)
                assert verified.passed, verified.mismatches
            os.sync()

        rates = {tool: megabytes / statistics.median(times) for tool, times in seconds.items()}
        ratio = rates["copy_tree"] / rates["cp -r"]
        print(f"\nfiles: {shape['files']} files, {megabytes:.0f} MB ({shape['small (4-64 KiB)']} small 4-64 KiB, "
              f"{shape['medium (1-4 MiB)']} medium 1-4 MiB, {shape['large (32 MiB)']} large 32 MiB) "
              f"in {shape['directories']} directories; {ROUNDS} rounds alternating, medians; "
              f"copy_tree parallel={PARALLEL}; {'cold cache, durable writes' if COLD else 'warm page cache'}; "
              f"{os.cpu_count()} CPUs, load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after")
        print(f"  {'tool':<24}{'median s':>10}{'MB/s':>10}{'CPU s':>8}   runs (s)")
        for tool, times in seconds.items():
            label = "cp -r" if tool == "cp -r" else "copy_tree (+SHA-256)"
            print(f"  {label:<24}{statistics.median(times):>10.2f}{rates[tool]:>10.0f}"
                  f"{statistics.median(cpu[tool]):>8.2f}   " + ", ".join(f"{t:.2f}" for t in times))
        verdict = "meets" if ratio >= FILES_TARGET_RATIO else "BELOW"
        print(f"  ratio copy_tree/cp = {ratio:.2f} ({verdict} the {FILES_TARGET_RATIO} target)")
        return {"cp_mb_s": rates["cp -r"], "copy_tree_mb_s": rates["copy_tree"], "ratio": ratio}
    finally:
        shutil.rmtree(work, ignore_errors=True)


DATABASE_ROWS = int(os.environ.get("BENCH_DATABASE_ROWS", "1000000"))
DATABASE_TARGET_RATIO = 0.7


def bench_database():
    """database: the PostgreSQL adapter's copy_database against `pg_dump -t | psql` of the same table.

    A table of BENCH_DATABASE_ROWS (default 1M) rows of mixed types (bigint key, text, numeric, timestamptz,
    boolean, varchar) is built in a scratch database tessera_mig_bench_<id> on 127.0.0.1:5432; each tool copies it
    BENCH_ROUNDS times, alternating, into a second scratch database (the copy dropped between runs, untimed). Medians
    give rows/second and the ratio adapter/pg_dump. verify_database runs once afterwards, timed on its own.
    """
    import uuid

    import psycopg

    from apps.migrations_app.adapters.confinement import Confinement
    from apps.migrations_app.adapters.databases import PostgreSQLAdapter, copy_database, verify_database

    host = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
    names = {side: f"tessera_mig_bench_{side}_{uuid.uuid4().hex[:8]}" for side in ("source", "destination")}
    admin = psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True)
    try:
        for name in names.values():
            admin.execute(f'CREATE DATABASE "{name}"')
        confinement = Confinement(allowed_db_hosts=(host,), passwordless_hosts=(host,))
        source, destination = (PostgreSQLAdapter({"type": "postgresql", "host": host, "port": 5432, "database": name,
                                                  "user": "postgres", "password": "", "schema": "public"},
                                                 confinement=confinement) for name in names.values())
        print(f"database: building a {DATABASE_ROWS:,}-row table in {names['source']} ...", flush=True)
        with psycopg.connect(host=host, user="postgres", dbname=names["source"], autocommit=True) as conn:
            conn.execute("CREATE TABLE big (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), "
                         "created timestamptz, active boolean, code varchar(64))")
            conn.execute("INSERT INTO big SELECT i, 'customer ' || i || ' Zoë', (i %% 100000) / 100.0, "
                         "timestamptz '2024-01-01 00:00+00' + i * interval '1 second', i %% 3 = 0, "
                         "CASE WHEN i %% 7 = 0 THEN NULL ELSE md5(i::text) END FROM generate_series(1, %s) i",
                         [DATABASE_ROWS])
            conn.execute("VACUUM ANALYZE big")
            size = conn.execute("SELECT pg_total_relation_size('big')").fetchone()[0]

        def drop_copy():
            with psycopg.connect(host=host, user="postgres", dbname=names["destination"], autocommit=True) as conn:
                conn.execute("DROP TABLE IF EXISTS big")
                conn.execute("CHECKPOINT")   # so one run's writeback does not land in the next run's timing

        def pg_dump_psql():
            subprocess.run(f"pg_dump -h {host} -U postgres -t public.big {names['source']} "
                           f"| psql -q -X -v ON_ERROR_STOP=1 -h {host} -U postgres -d {names['destination']}",
                           shell=True, check=True, stdout=subprocess.DEVNULL)

        reports = []
        runs = {"pg_dump | psql": pg_dump_psql,
                "copy_database": lambda: reports.append(copy_database(source, destination, tables=["big"],
                                                                      progress=lambda **_: None))}
        seconds = {tool: [] for tool in runs}
        for round_number in range(ROUNDS):
            for tool, run in runs.items():
                drop_copy()
                seconds[tool].append(timed(run))
        assert reports[-1].items_copied == DATABASE_ROWS, reports[-1]
        verify_seconds = timed(lambda: reports.append(verify_database(source, destination, tables=["big"])))
        assert reports[-1].passed, reports[-1].mismatches

        rates = {tool: DATABASE_ROWS / statistics.median(times) for tool, times in seconds.items()}
        ratio = rates["copy_database"] / rates["pg_dump | psql"]
        print(f"\ndatabase: PostgreSQL→PostgreSQL, one table of {DATABASE_ROWS:,} rows ({size / 1e6:.0f} MB with its "
              f"primary key; bigint, text, numeric, timestamptz, boolean, varchar); {ROUNDS} rounds alternating, "
              f"medians; {os.cpu_count()} CPUs")
        print(f"  {'tool':<28}{'median s':>10}{'rows/s':>12}   runs (s)")
        for tool, times in seconds.items():
            print(f"  {tool:<28}{statistics.median(times):>10.2f}{rates[tool]:>12,.0f}   "
                  + ", ".join(f"{t:.2f}" for t in times))
        verdict = "meets" if ratio >= DATABASE_TARGET_RATIO else "BELOW"
        print(f"  ratio copy_database/pg_dump = {ratio:.2f} ({verdict} the {DATABASE_TARGET_RATIO} target)")
        print(f"  verify_database (row count + checksum of both sides, not in the ratio): {verify_seconds:.2f} s "
              f"({DATABASE_ROWS / verify_seconds:,.0f} rows/s)")
        return {"pg_dump_rows_s": rates["pg_dump | psql"], "copy_database_rows_s": rates["copy_database"],
                "ratio": ratio, "verify_seconds": verify_seconds}
    finally:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


SECTIONS = {"files": bench_files, "database": bench_database}


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SECTIONS]
    if unknown:
        print(f"Unknown section(s) {', '.join(unknown)}; choose among {', '.join(SECTIONS)}.", file=sys.stderr)
        return 2
    for name in argv or list(SECTIONS):
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
