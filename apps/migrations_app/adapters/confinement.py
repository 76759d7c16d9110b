"""Where a deployment lets migrations read and write: filesystem roots and database servers, minus the platform's
own stores, which no allow-list can open.

Paths are resolved (symlinks followed, `..` collapsed) before they are compared with the roots, so no
spelling of a path, and no link inside an allowed tree, reaches outside it.

Database allow-list entries name a server, `host:port`, and may pin one database, `host:port/database`
(IPv6 in brackets: `[::1]:5432`). An entry without a port, the shape of older settings, allows only the
server's standard port (5432 for PostgreSQL, 3306 for MySQL). A tenant's list can only narrow the
deployment's: an endpoint must be allowed by both. A malformed entry allows nothing.
"""
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

#: The address key every spelling of "this machine" resolves to: loopback, the unspecified address, a socket.
LOCAL = "local"


class ConfinementError(ValueError):
    """A path or server outside what the deployment allows; the message is safe to show to the client.

    `field` names the config field at fault ("host", "port", "database", "password", "path")."""

    def __init__(self, message: str, *, field: str = "host"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Endpoint:
    """One allow-list entry: a server and, optionally, the one database on it that may be used."""

    host: str
    port: int | None = None
    database: str | None = None

    @classmethod
    def parse(cls, entry: str) -> "Endpoint | None":
        """`host`, `host:port` or `host:port/database`; None when the entry cannot be read."""
        entry = str(entry).strip()
        database = None
        if entry.startswith("/"):  # a Unix socket directory: `/run/postgresql:5432`
            host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "")
        else:
            if "/" in entry:
                entry, _, database = entry.partition("/")
            if entry.startswith("["):
                host, bracket, rest = entry[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else "" if bracket and not rest else None
            elif entry.count(":") > 1:  # a bare IPv6 address: no port
                host, port = entry, ""
            else:
                host, _, port = entry.partition(":")
        if not host or port is None or (port and not port.isdigit()) or database == "":
            return None
        return cls(host.lower(), int(port) if port else None, database)

    def allows(self, host: str, port: int, database: str, *, default_port: int) -> tuple[bool, bool, bool]:
        """(host matches, host and port match, all match) for a connection to host:port/database."""
        same_host = self.host == host.lower()
        same_port = same_host and port == (self.port if self.port is not None else default_port)
        return same_host, same_port, same_port and self.database in (None, database)


def address_keys(host: str) -> frozenset[str]:
    """What `host` reaches, for telling whether two spellings name the same server: LOCAL for loopback, the
    unspecified address, an empty host or a socket path (and this machine's own name), else the resolved IPs."""
    host = (host or "").strip().strip("[]").lower()
    if not host or host.startswith("/"):
        return frozenset({LOCAL})
    # Resolved on every check, never cached: a name may be re-pointed while the process runs.
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError):
            return frozenset({f"name:{host}"})
    own = _own_addresses()
    return frozenset(LOCAL if address.is_loopback or address.is_unspecified or address in own else str(address)
                     for address in addresses)


@lru_cache(maxsize=1)
def _own_addresses() -> frozenset:
    """This machine's addresses that its name resolves to: a server listening on all interfaces answers there."""
    try:
        return frozenset(ipaddress.ip_address(info[4][0].split("%")[0])
                         for info in socket.getaddrinfo(socket.gethostname(), None))
    except (OSError, UnicodeError):
        return frozenset()


@dataclass(frozen=True)
class ProtectedStores:
    """The platform's own stores: its databases, its other servers (Redis) and its files. Never reachable by a
    migration, whatever the allow-lists say."""

    #: (address keys, port, database name), one per database the platform itself uses (its test one included).
    databases: tuple[tuple[frozenset, int, str], ...] = ()
    #: (address keys, port, what it is): servers used whole, such as Redis.
    servers: tuple[tuple[frozenset, int, str], ...] = ()
    #: Directories and files of the platform: the code tree, the backups, SQLite database files.
    paths: tuple[Path, ...] = ()

    def check_server(self, host: str, port: int, database: str) -> None:
        keys = None
        for server_keys, server_port, what in self.servers:
            keys = keys if keys is not None else address_keys(host)
            if port == server_port and keys & server_keys:
                raise ConfinementError(f"{host}:{port} is the platform's own {what}; no migration may use it.",
                                       field="port")
        for database_keys, database_port, name in self.databases:
            keys = keys if keys is not None else address_keys(host)
            if port == database_port and database.casefold() == name.casefold() and keys & database_keys:
                raise ConfinementError(f"{database} on {host}:{port} is the platform's own database; no migration "
                                       "may read or write it.", field="database")

    def check_path(self, resolved: Path, *, tree: bool) -> None:
        """Refuse a path inside a protected one; for a tree (a directory to walk or fill), one holding it too."""
        for protected in self.paths:
            if resolved == protected or protected in resolved.parents or (tree and resolved in protected.parents):
                raise ConfinementError(f"{resolved} holds the platform's own files; no migration may use it.",
                                       field="path")


@dataclass(frozen=True)
class Confinement:
    allowed_roots: tuple[Path, ...] = field(default_factory=tuple)
    #: The deployment's database allow-list (entries as in the module docstring).
    allowed_db_hosts: tuple[str, ...] = field(default_factory=tuple)
    #: A tenant's own list, when it sets one: an endpoint must be in both.
    tenant_db_hosts: tuple[str, ...] | None = None
    #: `host:port` servers a migration may log in to without a password being checked (trust, peer, socket).
    passwordless_hosts: tuple[str, ...] = field(default_factory=tuple)
    protected: ProtectedStores = field(default_factory=ProtectedStores)

    def resolve_path(self, path: str | Path, *, tree: bool = False) -> Path:
        """The real absolute path of `path`, which must lie inside an allowed root (it need not exist yet) and
        outside the platform's own files (with `tree`, it must not hold any of them either).

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
                self.protected.check_path(resolved, tree=tree)
                return resolved
        raise ConfinementError(f"{path} is outside the directories migrations may use.", field="path")

    def _lists(self):
        return [self.allowed_db_hosts] + ([self.tenant_db_hosts] if self.tenant_db_hosts is not None else [])

    def check_host(self, host: str) -> str:
        """The host, when some entry of every allow-list names it (the port and database are checked later)."""
        for entries in self._lists():
            if not any(endpoint.host == host.lower() for endpoint in _endpoints(entries)):
                raise ConfinementError(f"{host} is not a database host migrations may connect to.")
        return host

    def check_database(self, host: str, port: int, database: str, *, default_port: int) -> None:
        """Refuse a server and database outside the allow-lists, or one of the platform's own stores."""
        for entries in self._lists():
            matches = [endpoint.allows(host, port, database, default_port=default_port)
                       for endpoint in _endpoints(entries)]
            if not any(same_host for same_host, _, _ in matches):
                raise ConfinementError(f"{host} is not a database host migrations may connect to.")
            if not any(same_port for _, same_port, _ in matches):
                raise ConfinementError(f"Port {port} of {host} is not one migrations may connect to.", field="port")
            if not any(allowed for _, _, allowed in matches):
                raise ConfinementError(f"{database} is not a database migrations may use on {host}:{port}.",
                                       field="database")
        self.protected.check_server(host, port, database)

    def allows_passwordless(self, host: str, port: int, *, default_port: int) -> bool:
        return any(endpoint.allows(host, port, "", default_port=default_port)[1]
                   for endpoint in _endpoints(self.passwordless_hosts))

    def narrowed(self, *, roots: Iterable[str] | None = None, hosts: Iterable[str] | None = None) -> "Confinement":

        """A tenant's narrower allow-list: only roots inside ours survive, and a server must be in both lists."""
        kept_roots = tuple(Path(r).resolve() for r in (roots or ()) if self._inside(Path(r)))
        return replace(self, allowed_roots=kept_roots if roots is not None else self.allowed_roots,
                       tenant_db_hosts=tuple(hosts) if hosts is not None else self.tenant_db_hosts)

    def _inside(self, path: Path) -> bool:
        try:
            self.resolve_path(path)
            return True
        except ConfinementError:
            return False


def _endpoints(entries) -> list[Endpoint]:
    return [endpoint for endpoint in map(Endpoint.parse, entries) if endpoint is not None]
