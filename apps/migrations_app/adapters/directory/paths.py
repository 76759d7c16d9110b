"""Path rules shared by the walk, the copy and the rollback: relative paths stay relative, links stay inside."""
from pathlib import Path, PurePosixPath

from ..confinement import ConfinementError

#: Prefix of the temporary files a copy writes before renaming them; walks ignore such files.
TEMP_PREFIX = ".tessera-part-"


def clean_relative(relative: str) -> str:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ConfinementError(f"{relative} is not a path inside the directory.")
    return str(path)


def inside(path: Path, root: Path) -> bool:
    resolved = path.resolve(strict=False)
    return resolved == root or root in resolved.parents


def overlaps(first: Path, second: Path) -> bool:
    return first == second or first in second.parents or second in first.parents


def nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
