"""File identity: which file is this, whatever its name today.

A file is known by its device and inode (what rename rotation keeps) plus a
fingerprint: the SHA-256 of its first ``fp_len`` bytes (at most
``fingerprint_bytes``, 1 KiB by default). The fingerprint tells apart

* an inode reused by a new file, or a file truncated and rewritten
  (copytruncate): same inode, different first bytes;
* a copy or a move to another device (copytruncate's rotated copy, NFS
  remounts): different inode, same first bytes.

Files shorter than ``fingerprint_bytes`` have a shorter, weaker fingerprint;
they are matched by inode only until they grow (``FileState.fp_len`` records
how many bytes the fingerprint covers, and it is extended as the file grows).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any, BinaryIO

import msgspec

DEFAULT_FINGERPRINT_BYTES = 1024


class ParserState(msgspec.Struct):
    """What a file's parser carries past ``FileState.offset`` (``LineParser.save_state``), in the same commit.

    ``quiet``: saved after the parser released what it held because the file
    went quiet; what is left (if anything) is context that waits for new lines.
    """

    format: str
    version: int
    data: Any
    quiet: bool = False


class FileState(msgspec.Struct, kw_only=True):
    """What the registry keeps about one file (mutable: a harvester advances it)."""

    id: str  # stable key, chosen when the file is first seen
    path: str  # last name it was seen under
    dev: int
    ino: int
    fp: str  # hex SHA-256 of the first fp_len bytes
    fp_len: int
    offset: int = 0  # end of the last line handed to the pipeline
    line_no: int = 0  # lines before ``offset`` (for bad-line samples)
    seen: float = 0.0  # last time a scan saw the file (epoch seconds)
    done: bool = False  # a whole document was read at this identity
    parser: ParserState | None = None  # the parser's state at ``offset``

    @property
    def holding(self) -> bool:
        """The parser holds lines' evidence that waits to be released (the file must be opened for it)."""
        return self.parser is not None and not self.parser.quiet


def read_head(fh: BinaryIO, length: int) -> bytes:
    """The first ``length`` bytes (fewer if the file is shorter), without moving the read position."""
    return os.pread(fh.fileno(), length, 0)


def fingerprint(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()


def same_prefix(fh: BinaryIO, state: FileState) -> bool:
    """Whether the file still starts with the bytes ``state`` fingerprinted."""
    head = read_head(fh, state.fp_len)
    return len(head) == state.fp_len and fingerprint(head) == state.fp


def extend_fingerprint(fh: BinaryIO, state: FileState, max_bytes: int) -> None:
    """Grow a short fingerprint as the file grows (the prefix was checked before)."""
    if state.fp_len >= max_bytes:
        return
    head = read_head(fh, max_bytes)
    if len(head) > state.fp_len and fingerprint(head[: state.fp_len]) == state.fp:
        state.fp, state.fp_len = fingerprint(head), len(head)


def new_state(path: str, st: os.stat_result, head: bytes, now: float) -> FileState:
    fp = fingerprint(head)
    return FileState(
        id=f"{st.st_dev:x}-{st.st_ino:x}-{uuid.uuid4().hex[:12]}",
        path=path,
        dev=st.st_dev,
        ino=st.st_ino,
        fp=fp,
        fp_len=len(head),
        seen=now,
    )
