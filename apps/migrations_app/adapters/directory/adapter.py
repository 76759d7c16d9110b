"""The `directory` adapter: its config, its checks and measurement, and the confined walk every transfer uses."""
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rest_framework import serializers

from ..base import Adapter, Check, Measurement, StrictSerializer
from ..confinement import ConfinementError
from .paths import TEMP_PREFIX, nearest_existing

#: Most errors and skipped paths kept in a report or a check's message (the counts are always exact).
MAX_LISTED = 100


class DirectoryConfigSerializer(StrictSerializer):
    """A directory on this machine, inside the deployment's allowed roots (context: `confinement`)."""

    path = serializers.CharField(max_length=4096, help_text="Path of the directory: absolute, or relative to the "
                                 "first allowed root (as the built-in presets give it).")

    def validate_path(self, value: str) -> str:

        if "\x00" in value:
            raise serializers.ValidationError("A path cannot contain a NUL character.")
        confinement = self.context.get("confinement")
        if confinement is None:  # fail closed: no allow-list means nothing is allowed
            raise serializers.ValidationError("No directory is open to migrations here.")
        try:
            resolved = confinement.resolve_path(value, tree=True)
        except ConfinementError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        # A relative path is stored as the absolute one it resolved to, so the worker that runs the migration
        # reaches the same directory whatever its current directory.
        return value if os.path.isabs(value) else str(resolved)


@dataclass(frozen=True)
class FileEntry:
    """A regular file found by the walk. `source` is what to open: the file itself, or an allowed link's target."""

    path: str        # relative, "/"-separated
    source: str
    size: int
    via_link: bool = False


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


class DirectoryAdapter(Adapter):
    """A tree of files under an allowed root, copied with SHA-256 checksums and verified after."""

    type = "directory"
    kind = "files"
    config_serializer = DirectoryConfigSerializer
    description = "A tree of files under an allowed directory, copied with SHA-256 checksums and verified after."

    @property
    def root(self) -> Path:
        """The real path of the configured directory; raises ConfinementError when it (now) lies outside, or
        holds the platform's own files (a backup root inside it would be copied, or overwritten)."""
        return self.confinement.resolve_path(self.config["path"], tree=True)

    def walk(self) -> Iterator[str | FileEntry | Skipped]:
        """Directories (as relative paths), files and skipped entries, depth first, in name order, streaming."""
        root = self.root
        stack = [""]
        while stack:
            relative_dir = stack.pop()
            try:
                with os.scandir(root / relative_dir if relative_dir else root) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError as exc:
                yield Skipped(relative_dir or ".", f"cannot be listed: {exc.strerror}")
                continue
            subdirectories = []
            for entry in entries:
                relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                try:
                    found = self._classify(entry, relative)
                except OSError as exc:
                    found = Skipped(relative, f"cannot be read: {exc.strerror}")
                if isinstance(found, str):
                    subdirectories.append(found)
                if found is not None:
                    yield found
            stack.extend(reversed(subdirectories))

    def _classify(self, entry: os.DirEntry, relative: str):
        if entry.name.startswith(TEMP_PREFIX):
            return None  # an interrupted copy's leftover, not content
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            try:
                self.confinement.resolve_path(target)
            except ConfinementError:
                return Skipped(relative, "is a link to outside the allowed directories; not followed")
            if os.path.isdir(target):
                return Skipped(relative, "is a link to a directory; not followed")
            if not os.path.isfile(target):
                return Skipped(relative, "is a broken link or a link to a special file")
            return FileEntry(relative, target, os.stat(target).st_size, via_link=True)
        if entry.is_dir(follow_symlinks=False):
            return relative
        if entry.is_file(follow_symlinks=False):
            return FileEntry(relative, entry.path, entry.stat(follow_symlinks=False).st_size)
        return Skipped(relative, "is not a regular file (device, socket or pipe)")

    def checks(self, *, role: str) -> list[Check]:
        try:
            root = self.root
        except ConfinementError as exc:
            return [Check("confinement", False, str(exc))]
        checks = [Check("confinement", True, f"{root} is inside the allowed directories.")]
        if role == "source":
            if not root.is_dir():
                return checks + [Check("exists", False, f"{root} is not an existing directory.")]
            checks.append(Check("exists", True, f"{root} exists."))
            readable = os.access(root, os.R_OK | os.X_OK)
            checks.append(Check("readable", readable, f"{root} is {'' if readable else 'not '}readable."))
            skipped = [found for found in self.walk() if isinstance(found, Skipped)] if readable else []
            checks.append(Check("links", not skipped, _skipped_summary(skipped), severity="warning"))
            return checks
        if root.exists():
            if not root.is_dir():
                return checks + [Check("writable", False, f"{root} exists and is not a directory.")]
            writable = os.access(root, os.W_OK | os.X_OK)
            checks.append(Check("writable", writable, f"{root} is {'' if writable else 'not '}writable."))
            if writable and any(os.scandir(root)):
                checks.append(Check("conflicts", False, f"{root} is not empty: files at the same paths will be "
                                    "replaced (safety.backup_before keeps them).", severity="warning"))
            return checks
        parent = nearest_existing(root)
        creatable = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
        checks.append(Check("writable", creatable, f"{root} does not exist and {'can' if creatable else 'cannot'} "
                            f"be created in {parent}."))
        return checks

    def measure(self) -> Measurement:
        files = size = directories = 0
        skipped = []
        for found in self.walk():
            if isinstance(found, FileEntry):
                files, size = files + 1, size + found.size
            elif isinstance(found, str):
                directories += 1
            else:
                skipped.append(found)
        return Measurement(items=files, bytes=size, details={
            "directories": directories, "skipped_count": len(skipped),
            "skipped": [f"{s.path} {s.reason}" for s in skipped[:MAX_LISTED]]})

    def free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(nearest_existing(self.root)).free
        except (OSError, ConfinementError):
            return None



def relative_files(source: DirectoryAdapter) -> Iterator[str]:
    """Every path a copy of `source` writes, directories included (an empty one is created too, so a rollback
    must know to remove it): what `backup_tree` snapshots at the destination."""
    for found in source.walk():
        if isinstance(found, str):
            yield found
        elif isinstance(found, FileEntry):
            yield found.path


def _skipped_summary(skipped: list[Skipped]) -> str:
    if not skipped:
        return "No links lead out of the tree and every entry is a regular file or directory."
    listed = "; ".join(f"{s.path} {s.reason}" for s in skipped[:5])
    more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
    return f"{len(skipped)} entries will be skipped: {listed}{more}."
