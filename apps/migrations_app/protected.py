"""The platform's own stores, read from the settings: what no migration may read or write, whatever the allow-lists
say. Every DATABASES entry (its test database too), every Redis the cache, channel layer, broker or REDIS_URL
uses, and the code tree, the backup root and SQLite database files."""
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from .adapters.confinement import ProtectedStores, address_keys
from .conf import migrations_settings

#: The port a database server listens on when its settings leave it out.
DEFAULT_PORTS = {"postgresql": 5432, "postgis": 5432, "mysql": 3306}


def platform_stores() -> ProtectedStores:
    databases, paths = [], [Path(settings.BASE_DIR), Path(migrations_settings.BACKUP_ROOT)]
    for entry in settings.DATABASES.values():
        engine = entry.get("ENGINE", "").rsplit(".", 1)[-1]
        test_name = (entry.get("TEST") or {}).get("NAME")
        if engine == "sqlite3":
            names = {entry.get("NAME"), test_name}
            paths += [Path(f"{name}{suffix}") for name in names if name and name != ":memory:"
                      for suffix in ("", "-wal", "-shm", "-journal")]
        elif engine in DEFAULT_PORTS:
            names = {entry.get("NAME"), test_name or f"test_{entry.get('NAME')}"}
            keys, port = address_keys(entry.get("HOST") or ""), int(entry.get("PORT") or DEFAULT_PORTS[engine])
            databases += [(keys, port, str(name)) for name in names if name]
    servers = [(address_keys(host), port, "Redis") for host, port in _redis_servers()]
    return ProtectedStores(databases=tuple(databases), servers=tuple(servers),
                           paths=tuple(path.resolve(strict=False) for path in paths))


def _redis_servers() -> set[tuple[str, int]]:
    """(host, port) of every Redis the settings name, whichever shape each setting gives it in."""
    found = set()

    def add(location):
        if isinstance(location, (list, tuple)) and len(location) == 2 and isinstance(location[1], int):
            found.add((str(location[0]), location[1]))
        elif isinstance(location, (list, tuple)):
            for item in location:
                add(item)
        elif isinstance(location, dict):
            if "address" in location:
                add(location["address"])
            elif "host" in location:
                found.add((str(location["host"]), int(location.get("port") or 6379)))
        elif isinstance(location, str) and location.startswith(("redis://", "rediss://", "unix://")):
            url = urlsplit(location)
            found.add((url.hostname or "", url.port or 6379))

    add(getattr(settings, "REDIS_URL", "") or "")
    for cache in getattr(settings, "CACHES", {}).values():
        if "redis" in cache.get("BACKEND", "").lower():
            add(cache.get("LOCATION"))
    for layer in getattr(settings, "CHANNEL_LAYERS", {}).values():
        add((layer.get("CONFIG") or {}).get("hosts"))
    add((getattr(settings, "Q_CLUSTER", {}) or {}).get("redis"))
    return found
