"""Backup before a copy and exact rollback after it, for the `directory` adapter."""
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from ..confinement import ConfinementError
from .adapter import DirectoryAdapter
from .paths import TEMP_PREFIX, clean_relative, inside


def private_directory(path: Path) -> Path:
    """`path`, created if missing with every new directory on the way 0700: backups hold copies of whatever a
    migration overwrote, for the platform's user only. Existing directories are left as the operator made them."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    return missing[0] if missing else path


def backup_tree(destination: DirectoryAdapter, relative_paths: Iterable[str], backup_dir: str | Path, *,
                compress: bool = False) -> dict:
    """Snapshot what a copy of `relative_paths` (`relative_files(source)`) will replace or create at `destination`.

    Files and links found there are copied under `backup_dir/files/`; paths that do not exist yet, with any missing
    directories above them, are listed so that `restore_tree` removes them. The lists go to
    `backup_dir/manifest.json`, so the dict returned stays small whatever the tree: it is JSON-serializable, meant
    to be stored on the run, and carries the manifest's SHA-256 so a tampered manifest is refused. With
    `compress`, each saved copy is stored gzip-compressed (`<path>.gz`, mode and times kept on the copy).
    """
    root, backup_dir = destination.root, Path(backup_dir).resolve()
    files_dir = backup_dir / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    saved, links, created, seen = [], {}, set(), set()
    bytes_saved = 0
    for relative in relative_paths:
        relative = clean_relative(relative)
        parts = PurePosixPath(relative).parts
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if path in seen:
                continue
            seen.add(path)
            target = root / path
            if not inside(target.parent, root):
                raise ConfinementError(f"{path} lies under a link out of the destination directory.")
            try:
                status = os.lstat(target)
            except FileNotFoundError:
                created.add(path)
                continue
            if stat.S_ISLNK(status.st_mode):
                links[path] = os.readlink(target)
            elif stat.S_ISREG(status.st_mode):
                copy = files_dir / (f"{path}.gz" if compress else path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                _save(target, copy, compress=compress)
                saved.append(path)
                bytes_saved += status.st_size
    manifest = json.dumps({"root": str(root), "saved": saved, "links": links, "created": sorted(created)}).encode()
    (backup_dir / "manifest.json").write_bytes(manifest)
    return {"adapter": DirectoryAdapter.type, "version": 1, "root": str(root), "backup_dir": str(backup_dir),
            "compressed": compress, "stored_bytes": sum(path.stat().st_size for path in files_dir.rglob("*")
                                                         if path.is_file()),
            "manifest": "manifest.json", "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
            "files_saved": len(saved), "bytes_saved": bytes_saved, "links_saved": len(links),
            "paths_created": len(created)}


def restore_tree(backup: dict) -> None:
    """Put the destination back as `backup_tree` found it: saved files and links back byte for byte (modes and
    mtimes too), created files removed, and created directories removed once empty (others' files are kept)."""
    backup_dir = Path(backup["backup_dir"])
    manifest_bytes = (backup_dir / backup["manifest"]).read_bytes()
    if hashlib.sha256(manifest_bytes).hexdigest() != backup["manifest_sha256"]:
        raise ValueError("The backup manifest has changed since the backup was taken; refusing to restore.")
    manifest = json.loads(manifest_bytes)
    root = Path(manifest["root"])
    for relative in sorted(manifest["created"], key=lambda path: path.count("/"), reverse=True):  # children first
        target = root / clean_relative(relative)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            for leftover in target.glob(f"{TEMP_PREFIX}*"):  # an interrupted copy's temporary files
                leftover.unlink()
            with contextlib.suppress(OSError):  # not empty: someone else's files landed there since
                target.rmdir()
    compressed = backup.get("compressed", False)
    for relative in manifest["saved"]:
        target = root / clean_relative(relative)
        copy = backup_dir / "files" / (f"{relative}.gz" if compressed else relative)
        _replace_atomically(target, lambda temporary: _load(copy, temporary, compressed=compressed))
    for relative, link in manifest["links"].items():
        _replace_atomically(root / clean_relative(relative), lambda temporary: os.symlink(link, temporary))


def discard_tree_backup(backup: dict) -> None:
    """Delete a backup `backup_tree` took (its directory under the backup root), once no rollback needs it."""
    shutil.rmtree(backup["backup_dir"], ignore_errors=True)


def _save(original: Path, copy: Path, *, compress: bool) -> None:
    if not compress:
        shutil.copy2(original, copy, follow_symlinks=False)
        return
    with open(original, "rb") as reader, gzip.open(copy, "wb", compresslevel=6) as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
    shutil.copystat(original, copy, follow_symlinks=False)


def _load(copy: Path, restored: Path, *, compressed: bool) -> None:
    if not compressed:
        shutil.copy2(copy, restored)
        return
    with gzip.open(copy, "rb") as reader, open(restored, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
    shutil.copystat(copy, restored)


def _replace_atomically(target: Path, write: Callable[[Path], object]):
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            temporary.unlink()
