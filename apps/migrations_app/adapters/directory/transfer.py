"""Copying a tree of files with SHA-256 checksums on a thread pool, then verifying it."""
import errno
import hashlib
import itertools
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from ..base import TransferReport, VerificationReport
from ..confinement import ConfinementError
from .adapter import MAX_LISTED, DirectoryAdapter, FileEntry, Skipped
from .paths import TEMP_PREFIX, inside, overlaps

#: Bytes read, hashed and written per step. hashlib releases the GIL on buffers this size, so workers hash in parallel.
CHUNK_SIZE = 1 << 20
#: Seconds between two progress reports; the adapter contract asks for at least one per second.
REPORT_INTERVAL = 0.5
#: Small files go to a worker in batches of up to this many files or bytes: a thread hand-off per file costs about
#: as much as copying a small file, and batching made a tree of 2,000 small files copy markedly faster.
BATCH_FILES = 16
BATCH_BYTES = CHUNK_SIZE
#: Errors after which going on file by file is pointless: the whole destination is unusable.
FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


class _Counters:
    """What workers have done so far; written under a lock by workers, read by the reporting thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = self.bytes = 0

    def add(self, *, items=0, nbytes=0):
        with self.lock:
            self.items += items
            self.bytes += nbytes


class _Abandoned(Exception):
    """A worker noticed the stop flag between two chunks."""


class _WorkerPool:
    """Drives `work` over a stream of files on a thread pool, reporting throttled progress from this thread."""

    def __init__(self, *, parallel: int, progress: Callable, step: str, totals: tuple[int, int],
                 chunk_size: int = CHUNK_SIZE):
        self.parallel, self.chunk_size = max(1, int(parallel)), chunk_size
        self.progress, self.step = progress, step
        self.total_items, self.total_bytes = totals
        self.counters = _Counters()
        self.stop = threading.Event()
        self.last_report = 0.0
        self._buffers = threading.local()
        # Temporary names: unique per pool without a getrandom() call per file; O_EXCL guards the rest.
        self.token, self.serials = uuid.uuid4().hex[:12], itertools.count()

    def buffer(self) -> memoryview:
        if not hasattr(self._buffers, "view"):
            self._buffers.view = memoryview(bytearray(self.chunk_size))
        return self._buffers.view

    def report(self, *, force=False, message=None):
        now = time.monotonic()
        if force or now - self.last_report >= REPORT_INTERVAL:
            self.last_report = now
            self.progress(done_items=self.counters.items, total_items=self.total_items,
                          done_bytes=self.counters.bytes, total_bytes=self.total_bytes, step=self.step,
                          message=message)

    def run(self, entries: Iterable[FileEntry], work: Callable, on_result: Callable,
            should_stop: Callable[[], bool] | None = None) -> bool:
        """True when every entry was processed; False when `should_stop` ended it early at a clean point.

        Whatever `progress` raises (a stop, a cancel) stops the workers between two chunks, discards the files
        in flight and propagates once they are gone.
        """
        in_flight, window = set(), self.parallel * 4  # bounded: the walk streams, it is never listed

        def work_batch(batch: list[FileEntry]) -> list:
            results = []
            for entry in batch:
                if self.stop.is_set():
                    raise _Abandoned
                results.append(work(entry))
            return results

        def drain():
            nonlocal in_flight
            done, in_flight = wait(in_flight, timeout=REPORT_INTERVAL, return_when=FIRST_COMPLETED)
            for future in done:
                for result in future.result():
                    on_result(result)

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="tessera-files") as pool:
            try:
                for batch in _batches(entries):
                    if should_stop is not None and should_stop():
                        while in_flight:
                            drain()
                        return False
                    while len(in_flight) >= window:
                        drain()
                        self.report()
                    in_flight.add(pool.submit(work_batch, batch))
                    self.report()
                while in_flight:
                    drain()
                    self.report()
            except BaseException:
                self.stop.set()
                for future in in_flight:
                    future.cancel()
                wait(in_flight)
                raise
        return True


def _batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    batch, size = [], 0
    for entry in entries:
        batch.append(entry)
        size += entry.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def copy_tree(source: DirectoryAdapter, destination: DirectoryAdapter, *, parallel: int, progress: Callable,
              should_stop: Callable[[], bool] | None = None, chunk_size: int = CHUNK_SIZE) -> TransferReport:
    """Copy every file of `source` into `destination`, skipping those already identical there, `parallel` files
    at a time, each read, hashed and written `chunk_size` bytes at a time.

    `report.details` holds `manifest` (relative path → SHA-256 of every source file copied or found identical,
    for `verify_tree`), `rate_bytes_per_second`, totals, `errors` (per file; the copy goes on) and `skipped`
    (links refused by confinement). When `should_stop()` turns true the files in flight finish and the report
    comes back with `details["stopped"] = True`. A full disk or a read-only destination raises.
    """
    started = time.monotonic()
    source_root, destination_root = source.root, destination.root
    if overlaps(source_root, destination_root):
        raise ConfinementError("The source and the destination directories overlap.")

    scan = _WorkerPool(parallel=1, progress=progress, step="scanning source", totals=(0, 0))
    for found in source.walk():
        if isinstance(found, FileEntry):
            scan.total_items, scan.total_bytes = scan.total_items + 1, scan.total_bytes + found.size
            scan.report()
    pool = _WorkerPool(parallel=parallel, progress=progress, step="copying files",
                       totals=(scan.total_items, scan.total_bytes), chunk_size=chunk_size)
    report = TransferReport()
    manifest, errors, skipped = {}, [], []
    directories = _DestinationDirectories(destination_root)

    def entries():
        for found in source.walk():
            if isinstance(found, Skipped):
                skipped.append(f"{found.path} {found.reason}")
            elif isinstance(found, str):
                directories.ensure(found)  # refuses it for the files below, or raises when the disk is unusable
            elif (problem := directories.problem(found.path)) is not None:
                errors.append(f"{found.path}: {problem}")
                pool.counters.add(items=1, nbytes=found.size)
            else:
                yield found

    def work(entry: FileEntry):
        try:
            return entry, *_copy_file(pool, entry, destination_root / entry.path), None
        except _Abandoned:
            raise
        except OSError as exc:
            if exc.errno in FATAL_ERRNOS:
                raise
            pool.counters.add(items=1)
            return entry, None, False, f"{entry.path}: {exc.strerror or exc}"

    def on_result(result):
        entry, digest, copied, error = result
        if error:
            errors.append(error)
            return
        manifest[entry.path] = digest
        if copied:
            report.items_copied += 1
            report.bytes_copied += entry.size
        else:
            report.items_skipped += 1

    complete = pool.run(entries(), work, on_result, should_stop)
    report.seconds = time.monotonic() - started
    rate = report.bytes_copied / report.seconds if report.seconds > 0 else 0.0
    report.details = {
        "files_total": pool.total_items, "bytes_total": pool.total_bytes, "parallel": pool.parallel,
        "chunk_size": pool.chunk_size,
        "rate_bytes_per_second": round(rate), "stopped": not complete,
        "errors_count": len(errors), "errors": errors[:MAX_LISTED],
        "skipped_count": len(skipped), "skipped": skipped[:MAX_LISTED], "manifest": manifest}
    pool.report(force=True, message=(
        f"Copied {report.items_copied} files ({report.bytes_copied / 1e6:.1f} MB at {rate / 1e6:.1f} MB/s), "
        f"{report.items_skipped} already identical, {len(errors)} errors, {len(skipped)} skipped."))
    return report


def _copy_file(pool: _WorkerPool, entry: FileEntry, target: Path) -> tuple[str, bool]:
    """(SHA-256, copied?) of one file: skipped when the target already holds the same bytes."""
    flags = os.O_RDONLY | (0 if entry.via_link else os.O_NOFOLLOW)
    with open(os.open(entry.source, flags), "rb", buffering=0) as reader:
        status = os.fstat(reader.fileno())
        if _same_size_file(target, status.st_size):
            digest = _hash_if_identical(pool, reader, target)
            if digest is not None:
                return digest, False
            reader.seek(0)
        temporary = target.parent / f"{TEMP_PREFIX}{pool.token}-{next(pool.serials)}"
        try:
            with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb",
                      buffering=0) as writer:
                digest = _hash_and_write(pool, reader, writer, status.st_size)
                os.fchmod(writer.fileno(), stat.S_IMODE(status.st_mode))
                os.utime(writer.fileno(), ns=(status.st_atime_ns, status.st_mtime_ns))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return digest, True


def _hash_and_write(pool: _WorkerPool, reader, writer, size: int) -> str:
    digest, view, done = hashlib.sha256(), pool.buffer(), 0
    while count := reader.readinto(view):
        if pool.stop.is_set():
            raise _Abandoned
        chunk = view[:count]
        digest.update(chunk)
        while chunk:
            chunk = chunk[writer.write(chunk):]
        done += count
        if count < len(view) and done == size:
            break  # a short read at the size fstat gave is the end: spare the read that would return nothing
        pool.counters.add(nbytes=count)
    pool.counters.add(items=1, nbytes=count)
    return digest.hexdigest()


def _hash_if_identical(pool: _WorkerPool, reader, target: Path) -> str | None:
    """The source's SHA-256 when `target` holds exactly its bytes, else None (progress is then rolled back)."""
    digest, view, seen = hashlib.sha256(), pool.buffer(), 0
    try:
        other = open(os.open(target, os.O_RDONLY | os.O_NOFOLLOW), "rb", buffering=0)
    except OSError:
        return None
    with other:
        while count := reader.readinto(view):
            if pool.stop.is_set():
                raise _Abandoned
            digest.update(view[:count])
            if other.read(count) != view[:count]:
                pool.counters.add(nbytes=-seen)
                return None
            seen += count
            pool.counters.add(nbytes=count)
        if other.read(1):
            pool.counters.add(nbytes=-seen)
            return None
    pool.counters.add(items=1)
    return digest.hexdigest()


def verify_tree(source: DirectoryAdapter, destination: DirectoryAdapter, *, progress: Callable,
                manifest: dict[str, str] | None = None, parallel: int = 1) -> VerificationReport:
    """Every source file must exist at the destination with the same SHA-256.

    `manifest` (copy_tree's `details["manifest"]`) spares re-reading the source; files it lacks are hashed.
    """
    manifest = manifest or {}
    destination_root = destination.root
    measurement = source.measure()
    pool = _WorkerPool(parallel=parallel, progress=progress, step="verifying checksums",
                       totals=(measurement.items, measurement.bytes))
    mismatches, checked = [], 0

    def work(entry: FileEntry):
        try:
            expected = manifest.get(entry.path) or _file_sha256(pool, entry.source, follow=entry.via_link)
        except OSError as exc:
            return f"{entry.path}: cannot be read at the source ({exc.strerror})"
        try:
            actual = _file_sha256(pool, str(destination_root / entry.path), follow=False)
        except FileNotFoundError:
            return f"{entry.path}: missing at the destination"
        except OSError as exc:  # a link planted in its place (ELOOP) lands here too
            return f"{entry.path}: cannot be read at the destination ({exc.strerror})"
        finally:
            pool.counters.add(items=1, nbytes=entry.size)
        return None if actual == expected else f"{entry.path}: checksum differs"

    def on_result(mismatch):
        nonlocal checked
        checked += 1
        if mismatch:
            mismatches.append(mismatch)

    entries = (found for found in source.walk() if isinstance(found, FileEntry))
    pool.run(entries, work, on_result)
    pool.report(force=True, message=f"Verified {checked} files: {len(mismatches)} mismatches.")
    listed = sorted(mismatches)[:MAX_LISTED]
    if len(mismatches) > MAX_LISTED:
        listed.append(f"… and {len(mismatches) - MAX_LISTED} more")
    return VerificationReport(passed=not mismatches, checked=checked, mismatches=listed)


def _file_sha256(pool: _WorkerPool, path: str, *, follow: bool) -> str:
    digest, view = hashlib.sha256(), pool.buffer()
    with open(os.open(path, os.O_RDONLY | (0 if follow else os.O_NOFOLLOW)), "rb", buffering=0) as reader:
        while size := reader.readinto(view):
            if pool.stop.is_set():
                raise _Abandoned
            digest.update(view[:size])
    return digest.hexdigest()


class _DestinationDirectories:
    """Creates destination directories, refusing any that resolves out of the destination root (a planted link)."""

    def __init__(self, root: Path):
        self.root = root
        self.refused: dict[str, str] = {}
        root.mkdir(parents=True, exist_ok=True)

    def ensure(self, relative: str):
        target = self.root / relative
        if not inside(target, self.root):
            self.refused[relative] = "a link out of the destination directory is in the way"
            return
        try:
            target.mkdir(exist_ok=True)
        except OSError as exc:
            self.refused[relative] = f"its directory cannot be created ({exc.strerror})"
            if exc.errno in FATAL_ERRNOS:
                raise

    def problem(self, relative_file: str) -> str | None:
        parent = relative_file.rpartition("/")[0]
        while parent:
            if parent in self.refused:
                return self.refused[parent]
            parent = parent.rpartition("/")[0]
        return None


def _same_size_file(path: Path, size: int) -> bool:
    try:
        status = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size == size
