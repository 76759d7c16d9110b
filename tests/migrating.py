"""Data-migration tests: put the database at an older state, write rows there, then migrate forward again.

The test database is left fully migrated whatever the test does, so the tests after it see the real schema.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str]]) -> Apps:
    """Migrate (forward or back) to `targets`; the historical models at that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@contextmanager
def migrated_back_to(targets: list[tuple[str, str]]) -> Iterator[Apps]:
    """The historical models at `targets`; on leaving, the database is migrated to the latest state."""
    try:
        yield migrate(targets)
    finally:
        migrate(latest())
