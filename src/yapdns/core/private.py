"""Private files: what holds secrets or collected data is created owner-only, and exposure is reported.

Data directories are created 0700 and their files 0600 (SQLite databases with password hashes, token
digests and sessions; agent spools and read positions; set-aside bad lines). ``exposed`` lists what
group or others can read, for the warnings of ``yapdns serve``, the agent and ``yapdns check --deploy``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with the leaf owner-only; an existing directory is left as it is."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only unless it exists (SQLite's -wal and -shm take its mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def open_private(path: Path) -> int:
    """A new owner-only file opened for writing (fails if it exists); the caller owns the descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)


def exposed(directory: Path, names: tuple[str, ...] = ()) -> list[str]:
    """``directory`` and those of its entries (all of them, or the ones whose name starts with one of
    ``names``) that group or others may read, each as ``"path (mode 0644)"``."""
    found: list[str] = []
    candidates = [directory]
    if directory.is_dir():
        candidates += sorted(p for p in directory.iterdir() if not names or p.name.startswith(names))
    for path in candidates:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            found.append(f"{path} (mode {mode:04o})")
    return found
