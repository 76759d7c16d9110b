"""Where a deployment lets migrations read and write: filesystem roots and database hosts.

Paths are resolved (symlinks followed, `..` collapsed) before they are compared with the roots, so no
spelling of a path, and no link inside an allowed tree, reaches outside it.
"""
from dataclasses import dataclass, field
from pathlib import Path


class ConfinementError(ValueError):
    """A path or host outside what the deployment allows; the message is safe to show to the client."""


@dataclass(frozen=True)
class Confinement:
    allowed_roots: tuple[Path, ...] = field(default_factory=tuple)
    allowed_db_hosts: tuple[str, ...] = field(default_factory=tuple)

    def resolve_path(self, path: str | Path) -> Path:
        """The real absolute path of `path`, which must lie inside an allowed root (it need not exist yet).

        A relative path is taken inside the first allowed root, so presets and configs can say "site" and
        mean the same place whatever directory the server runs from.
        """
        path = Path(path).expanduser()
        if not path.is_absolute() and self.allowed_roots:
            path = Path(self.allowed_roots[0]) / path
        resolved = path.resolve(strict=False)
        for root in self.allowed_roots:
            real_root = Path(root).resolve(strict=False)
            if resolved == real_root or real_root in resolved.parents:
                return resolved
        raise ConfinementError(f"{path} is outside the directories migrations may use.")

    def check_host(self, host: str) -> str:
        if host not in self.allowed_db_hosts:
            raise ConfinementError(f"{host} is not a database host migrations may connect to.")
        return host

    def narrowed(self, *, roots=None, hosts=None) -> "Confinement":
        """A tenant's narrower allow-list: only roots inside ours and hosts among ours survive."""
        kept_roots = tuple(Path(r).resolve() for r in (roots or ()) if self._inside(Path(r)))
        kept_hosts = tuple(h for h in (hosts or ()) if h in self.allowed_db_hosts)
        return Confinement(allowed_roots=kept_roots if roots is not None else self.allowed_roots,
                           allowed_db_hosts=kept_hosts if hosts is not None else self.allowed_db_hosts)

    def _inside(self, path: Path) -> bool:
        try:
            self.resolve_path(path)
            return True
        except ConfinementError:
            return False
