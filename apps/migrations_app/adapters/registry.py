"""The adapter registry: every type a source or destination may have, including sites composed of two parts, and
the transfer that moves each kind.

GET /system/types and /system/modules are generated from it.
"""
from .databases import MySQLAdapter, PostgreSQLAdapter, SQLiteAdapter
from .directory import DirectoryAdapter
from .transfers import TableTransfer, TreeTransfer

ADAPTERS = {adapter.type: adapter for adapter in (DirectoryAdapter, SQLiteAdapter, PostgreSQLAdapter, MySQLAdapter)}

#: Adapter kind -> the transfer that moves data between two adapters of that kind.
TRANSFERS = {transfer.kind: transfer for transfer in (TreeTransfer, TableTransfer)}

#: Site kinds: compositions of a files part and, for dynamic sites, a database part (part -> adapter kind).
SITE_KINDS = {
    "static_site": {"description": "A static website: its files.", "parts": {"files": "files"}},
    "django_site": {"description": "A Django site: its files (media, static) and its database.",
                    "parts": {"files": "files", "database": "database"}},
    "wordpress_site": {"description": "A WordPress-style site: its files and its MySQL/MariaDB database.",
                       "parts": {"files": "files", "database": "database"}},
}


def adapter_types() -> list[str]:
    return sorted([*ADAPTERS, *SITE_KINDS])
