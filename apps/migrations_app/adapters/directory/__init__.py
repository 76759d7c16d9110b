"""The `directory` adapter and the functions that move files between two of them: copy a tree with SHA-256
checksums, verify, back up, roll back.

A library the files transfer (adapters/transfers.py) calls; it reads no settings and touches no models. Its rules:

- Confinement. Both roots are resolved through the deployment's `Confinement` every time a transfer starts. The walk
  never leaves the source tree: a symlink to a file is copied as that file's content only when its target resolves
  inside the allowed roots, and is otherwise skipped and reported; links to directories are never followed (that
  is also what keeps a looping tree finite). At the destination, a directory that is a link out of the destination
  root refuses every file beneath it, so nothing is ever written through a planted link.
- Atomicity. A file is read once: each chunk is hashed and written to a temporary file in the destination
  directory, which `os.replace` moves onto the real name only when complete. A crash leaves at most a
  `.tessera-part-*` file, never half a file under the real name; a cancel leaves neither.
- Resumption. A destination file of the source's size whose bytes are identical is skipped, so a re-run after a
  cancel or a crash copies only the rest. Identical bytes are what equal SHA-256s stand for; comparing the bytes
  in the same pass that hashes the source costs one memcmp per chunk instead of a second SHA-256 computation.
- Progress. Only the calling thread calls `progress` (it writes to the database and is where a cancel lands), at
  most every REPORT_INTERVAL seconds and always once at the end. Workers only add to counters.
"""
from .adapter import DirectoryAdapter, DirectoryConfigSerializer, FileEntry, Skipped, relative_files
from .backup import backup_tree, discard_tree_backup, private_directory, restore_tree
from .transfer import copy_tree, verify_tree

__all__ = ["DirectoryAdapter", "DirectoryConfigSerializer", "FileEntry", "Skipped", "backup_tree", "copy_tree",
           "discard_tree_backup", "private_directory", "relative_files", "restore_tree", "verify_tree"]
