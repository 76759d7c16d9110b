"""The transfer of each adapter kind: how a tree of files and a set of tables are backed up, copied, verified and
restored between two adapters of that kind, behind the one `Transfer` contract the pipeline drives."""
from pathlib import Path
from typing import Any

from . import databases, directory
from .base import Check, Progress, Transfer, TransferReport, VerificationReport


class TreeTransfer(Transfer):
    """Files: every file of the source tree, copied with SHA-256 checksums on a thread pool."""

    kind = "files"
    bytes_per_second = 80e6
    features = ("sha256 checksums", "skips identical files (resumable)", "parallel transfers", "chunk size",
                "verify after", "backup and exact rollback", "compressed backups")

    def backup(self, backup_dir: Path) -> dict[str, Any]:
        return directory.backup_tree(self.destination, directory.relative_files(self.source),
                                     directory.private_directory(backup_dir), compress=self.options["compression"])

    def restore(self, backup: dict[str, Any]) -> None:
        directory.restore_tree(backup)

    def discard(self, backup: dict[str, Any]) -> None:
        directory.discard_tree_backup(backup)

    def copy(self, progress: Progress) -> TransferReport:
        return directory.copy_tree(self.source, self.destination, parallel=self.options["parallel_transfers"],
                                   chunk_size=self.options["chunk_size"], progress=progress)

    def verify(self, copied: TransferReport, progress: Progress) -> VerificationReport:
        return directory.verify_tree(self.source, self.destination, progress=progress,
                                     manifest=copied.details.get("manifest"))


class TableTransfer(Transfer):
    """Databases: the chosen tables (all by default), schema and rows, table by table, across dialects."""

    kind = "database"
    bytes_per_second = 40e6
    features = ("schema and data table by table", "type mapping across engines", "COPY into PostgreSQL",
                "streaming (flat memory)", "row counts and per-table checksums", "backup and exact rollback")

    @property
    def tables(self) -> list[str] | None:
        return self.options.get("tables")

    def plan_checks(self) -> list[Check]:
        """Tables missing at the source, and destination tables the copy would replace."""
        return databases.plan_checks(self.source, self.destination, tables=self.tables)

    def backup(self, backup_dir: Path) -> dict[str, Any]:
        return databases.backup_database(self.destination, self.tables)

    def restore(self, backup: dict[str, Any]) -> None:
        databases.restore_database(self.destination, backup)

    def discard(self, backup: dict[str, Any]) -> None:
        databases.discard_backup(self.destination, backup)

    def copy(self, progress: Progress) -> TransferReport:
        return databases.copy_database(self.source, self.destination, tables=self.tables,
                                       batch_size=self.options["batch_size"], progress=progress)

    def verify(self, copied: TransferReport, progress: Progress) -> VerificationReport:
        return databases.verify_database(self.source, self.destination, tables=self.tables)
