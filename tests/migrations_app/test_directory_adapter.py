"""The directory adapter on real trees under tmp_path: copy with checksums, resume, confinement, backup and rollback."""
import hashlib
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from apps.jobs.progress import JobCancelled
from apps.migrations_app.adapters.confinement import Confinement
from apps.migrations_app.adapters.directory import (
    DirectoryAdapter,
    DirectoryConfigSerializer,
    backup_tree,
    copy_tree,
    relative_files,
    restore_tree,
    verify_tree,
)
from apps.migrations_app.adapters.directory import transfer
from apps.migrations_app.adapters.directory.paths import TEMP_PREFIX

MB = 1 << 20


class Recorder:
    """A `progress` callable that remembers every report and can cancel like a job does, after some files."""

    def __init__(self, cancel_after_items=None):
        self.calls = []
        self.cancel_after_items = cancel_after_items
        self.cancelled = threading.Event()

    def __call__(self, **report):
        self.calls.append(report)
        if (self.cancel_after_items is not None and report["step"] == "copying files"
                and report["done_items"] >= self.cancel_after_items):
            self.cancelled.set()
            raise JobCancelled("Cancelled on request.")


@pytest.fixture
def allowed(tmp_path):
    root = tmp_path / "allowed"
    root.mkdir()
    return root


@pytest.fixture
def confinement(allowed):
    return Confinement(allowed_roots=(allowed,))


def adapter(path, confinement) -> DirectoryAdapter:
    return DirectoryAdapter({"path": str(path)}, confinement=confinement)


def build_tree(root: Path) -> int:
    """Several levels of binary and text files, an empty file and an empty directory: about 5 MB in 25 files."""
    files = {
        "README.txt": b"Tessera test tree\n" * 50,
        "empty.bin": b"",
        "big/blob.bin": os.urandom(3 * MB + 12345),  # several chunks, so a cancel can land mid-file
        "big/exactly-one-chunk.bin": os.urandom(MB),
        "a/b/c/d/deep.txt": "ünïcödé text\n".encode() * 1000,
    }
    for index in range(20):
        files[f"a/b/file-{index:02}.bin"] = os.urandom(4096 * (index + 1) + index)
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    os.utime(root / "README.txt", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    (root / "a/empty-directory").mkdir()
    return len(files)


def snapshot(root: Path) -> dict:
    """Everything rollback must restore: each path's kind, bytes (as a hash), mode and mtime; links' targets."""
    state = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory) / name
            status = os.lstat(path)
            relative = str(path.relative_to(root))
            if stat.S_ISLNK(status.st_mode):
                state[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(status.st_mode):
                state[relative] = ("dir",)
            else:
                state[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                                   stat.S_IMODE(status.st_mode), status.st_mtime_ns)
    return state


def files_under(root: Path) -> dict:
    return {key: value for key, value in snapshot(root).items() if value[0] == "file"}


def temporary_files(root: Path) -> list:
    return [path for path in root.rglob("*") if path.name.startswith(TEMP_PREFIX)]


@pytest.fixture
def source(allowed, confinement):
    (allowed / "source").mkdir()
    build_tree(allowed / "source")
    return adapter(allowed / "source", confinement)


@pytest.fixture
def destination(allowed, confinement):
    return adapter(allowed / "destination", confinement)


@pytest.fixture
def every_report(monkeypatch):
    """Report on every file instead of every half second, so a cancel lands after an exact number of files."""
    monkeypatch.setattr(transfer, "REPORT_INTERVAL", 0)


def test_a_nested_tree_is_copied_with_its_layout_mtimes_and_checksums(source, destination):
    progress = Recorder()

    report = copy_tree(source, destination, parallel=4, progress=progress)

    assert report.items_copied == 25 and report.items_skipped == 0
    assert report.bytes_copied == source.measure().bytes > 4 * MB
    assert report.details["errors"] == [] and report.details["rate_bytes_per_second"] > 0
    assert files_under(destination.root) == files_under(source.root)  # content, mode and mtime
    assert (destination.root / "a/empty-directory").is_dir()
    blob = (source.root / "big/blob.bin").read_bytes()
    assert report.details["manifest"]["big/blob.bin"] == hashlib.sha256(blob).hexdigest()
    final = progress.calls[-1]
    done, total = (final["done_items"], final["done_bytes"]), (final["total_items"], final["total_bytes"])
    assert done == total == (25, report.bytes_copied)
    assert "Copied 25 files" in final["message"]

    verification = verify_tree(source, destination, progress=Recorder(), manifest=report.details["manifest"])
    assert verification.passed and verification.checked == 25


def test_verification_finds_a_changed_and_a_missing_file(source, destination):
    report = copy_tree(source, destination, parallel=2, progress=Recorder())
    (destination.root / "a/b/c/d/deep.txt").write_bytes(b"tampered")
    (destination.root / "empty.bin").unlink()

    verification = verify_tree(source, destination, progress=Recorder(), manifest=report.details["manifest"])

    assert not verification.passed and verification.checked == 25
    assert verification.mismatches == ["a/b/c/d/deep.txt: checksum differs", "empty.bin: missing at the destination"]


def test_a_cancelled_copy_leaves_no_temporary_file_and_the_rerun_copies_only_the_rest(source, destination,
                                                                                        every_report, monkeypatch):
    canceller = Recorder(cancel_after_items=6)
    copy_file = transfer._copy_file

    def copy_the_big_file_once_cancelled(pool, entry, target):
        # However fast the small files go, the cancel lands while the big one is still to copy (one CI run copied
        # all 25 before the reporting thread saw 6 done).
        if entry.path == "big/blob.bin":
            canceller.cancelled.wait(timeout=10)
        return copy_file(pool, entry, target)

    monkeypatch.setattr(transfer, "_copy_file", copy_the_big_file_once_cancelled)
    with pytest.raises(JobCancelled):
        copy_tree(source, destination, parallel=2, progress=canceller)

    assert temporary_files(destination.root) == []
    already_there = files_under(destination.root)
    assert 6 <= len(already_there) < 25 and "big/blob.bin" not in already_there
    source_files = files_under(source.root)
    assert all(source_files[path] == state for path, state in already_there.items())  # whole files only

    report = copy_tree(source, destination, parallel=2, progress=Recorder())

    assert report.items_skipped == len(already_there)
    assert report.items_copied == 25 - len(already_there)
    assert files_under(destination.root) == source_files
    assert verify_tree(source, destination, progress=Recorder()).passed


def test_an_identical_rerun_copies_nothing_but_a_changed_file_of_the_same_size_is_copied_again(source, destination):
    copy_tree(source, destination, parallel=2, progress=Recorder())

    rerun = copy_tree(source, destination, parallel=2, progress=Recorder())
    assert (rerun.items_copied, rerun.items_skipped, rerun.bytes_copied) == (0, 25, 0)

    blob = destination.root / "big/blob.bin"
    content = bytearray(blob.read_bytes())
    content[-1] ^= 0xFF  # same size, different last byte: size alone must not decide
    blob.write_bytes(bytes(content))
    third = copy_tree(source, destination, parallel=2, progress=Recorder())
    assert (third.items_copied, third.items_skipped) == (1, 24)
    assert blob.read_bytes() == (source.root / "big/blob.bin").read_bytes()


def test_should_stop_ends_the_copy_at_a_clean_point_with_a_partial_report(source, destination):
    calls = iter(range(1000))

    report = copy_tree(source, destination, parallel=1, progress=Recorder(), should_stop=lambda: next(calls) >= 1)

    assert report.details["stopped"] is True
    assert report.items_copied == len(files_under(destination.root)) < 25
    assert temporary_files(destination.root) == []


def test_parallel_1_and_4_produce_the_same_tree(source, allowed, confinement):
    one, four = adapter(allowed / "one", confinement), adapter(allowed / "four", confinement)

    report_one = copy_tree(source, one, parallel=1, progress=Recorder())
    report_four = copy_tree(source, four, parallel=4, progress=Recorder())

    assert report_one.details["manifest"] == report_four.details["manifest"]
    assert snapshot(one.root) == snapshot(four.root)


@pytest.mark.parametrize("path", ["{allowed}/source/../../outside", "/etc", "{allowed}/../outside/x", "../outside",
                                  "source/../../outside"])
def test_paths_outside_the_allowed_roots_are_field_errors(path, allowed, confinement):
    serializer = DirectoryConfigSerializer(data={"path": path.format(allowed=allowed)},
                                           context={"confinement": confinement})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["path"]


def test_a_relative_path_is_taken_inside_the_first_allowed_root_and_stored_absolute(allowed, confinement):
    serializer = DirectoryConfigSerializer(data={"path": "site/media"}, context={"confinement": confinement})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["path"] == str(allowed.resolve() / "site" / "media")


def test_a_link_inside_the_allowed_root_to_outside_is_refused_as_a_path(allowed, confinement, tmp_path):
    (tmp_path / "outside").mkdir()
    (allowed / "escape").symlink_to(tmp_path / "outside")

    serializer = DirectoryConfigSerializer(data={"path": str(allowed / "escape")}, context={"confinement": confinement})
    assert not serializer.is_valid() and "outside" in serializer.errors["path"][0]

    assert DirectoryConfigSerializer(data={"path": str(allowed / "source")},
                                     context={"confinement": confinement}).is_valid()
    assert not DirectoryConfigSerializer(data={"path": str(allowed / "source")}).is_valid()  # no allow-list: refused


def test_links_in_the_tree_that_lead_outside_are_skipped_never_followed(source, destination, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    (source.root / "a/secret-link.txt").symlink_to(outside / "secret.txt")
    (source.root / "a/outside-dir").symlink_to(outside)
    (source.root / "a/inside-link.txt").symlink_to(source.root / "README.txt")

    report = copy_tree(source, destination, parallel=2, progress=Recorder())

    assert not (destination.root / "a/secret-link.txt").exists()
    assert not (destination.root / "a/outside-dir").exists()
    assert report.details["skipped_count"] == 2
    assert any("secret-link.txt is a link to outside" in line for line in report.details["skipped"])
    assert (destination.root / "a/inside-link.txt").read_bytes() == (source.root / "README.txt").read_bytes()
    assert source.measure().details["skipped_count"] == 2
    links = next(check for check in source.checks(role="source") if check.name == "links")
    assert not links.passed and links.severity == "warning"


def test_a_planted_link_at_the_destination_is_not_written_through(source, destination, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    destination.root.mkdir()
    (destination.root / "big").symlink_to(outside)

    report = copy_tree(source, destination, parallel=2, progress=Recorder())

    assert list(outside.iterdir()) == []
    assert report.details["errors_count"] == 2
    assert all("link out of the destination" in error for error in report.details["errors"])


def test_backup_then_restore_gives_back_the_destination_byte_for_byte(source, destination, allowed):
    destination.root.mkdir()
    (destination.root / "README.txt").write_text("the destination's own readme")  # will be overwritten
    (destination.root / "a/b").mkdir(parents=True)
    (destination.root / "a/b/file-03.bin").write_bytes(b"older")
    os.chmod(destination.root / "a/b/file-03.bin", 0o640)
    (destination.root / "unrelated.txt").write_text("kept as is")
    (destination.root / "empty.bin").symlink_to("unrelated.txt")  # a link the copy replaces with a file
    before = snapshot(destination.root)

    backup = backup_tree(destination, relative_files(source), allowed / "backup")
    assert json.loads(json.dumps(backup)) == backup
    assert (backup["files_saved"], backup["links_saved"]) == (2, 1)
    copy_tree(source, destination, parallel=2, progress=Recorder())
    assert snapshot(destination.root) != before

    restore_tree(backup)

    assert snapshot(destination.root) == before


def test_restore_refuses_a_tampered_manifest(source, destination, allowed):
    backup = backup_tree(destination, relative_files(source), allowed / "backup")
    (allowed / "backup/manifest.json").write_text('{"root": "/", "saved": [], "links": {}, "created": ["etc"]}')

    with pytest.raises(ValueError, match="manifest has changed"):
        restore_tree(backup)


def test_checks_measure_and_free_space(source, destination, allowed, confinement):
    assert all(check.passed for check in source.checks(role="source"))
    assert [(c.name, c.passed) for c in destination.checks(role="destination")] == [("confinement", True),
                                                                                     ("writable", True)]
    assert not all(check.passed for check in adapter(allowed / "missing", confinement).checks(role="source"))
    measurement = source.measure()
    assert (measurement.items, measurement.details["directories"]) == (25, 6)
    assert destination.free_bytes() > 0
