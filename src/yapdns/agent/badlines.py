"""Bad lines set aside for replay: ``<path.data>/bad/<input id>.ndjson``, as IntelMQ keeps its dumps.

Every log line a parser refused, or whose every observation the normalizer
rejected, is counted and sampled as before (``parsing.ParseStats``) and also
appended here, whole, so that it can be fed again once the parser or its
options are fixed (``yapdns agent --replay-bad INPUT``, ``agent/replay.py``).
A line of which something was used is never set aside: replaying it would
count that part twice. One JSON object per line (version 1)::

    {"v": 1, "time": 1733580000.123, "input": "bind", "file": "/var/log/named/query.log", "line_no": 1234,
     "code": "bad_time", "message": "...", "line": "<the line as read, without its terminator>"}

* ``line`` holds the line as the harvester decoded it; a line that is not
  valid UTF-8 has ``line_b64`` (its bytes) instead, so a replay feeds the
  parser exactly the same text.
* Bounded: when a file reaches ``MAX_BYTES`` it is renamed to ``.1``
  (replacing the previous ``.1``) and a new one is started, so an input
  keeps at most twice ``MAX_BYTES``; ``dropped`` counts the entries a
  rotation threw away. Lines longer than ``parsing.MAX_LINE`` are counted,
  not kept.
* Private: the directory is created 0700 and the files 0600.
* An entry is written (one ``write``, not fsynced) when its line is parsed,
  before the line's position is durable: after a crash the line is read and
  set aside again. A replay therefore skips an entry whose file, line number
  and text it has seen already.
"""

from __future__ import annotations

import base64
import os
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

VERSION = 1
MAX_BYTES = 8 << 20
MESSAGE_MAX = 300


class BadLineEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One line set aside (the format above)."""

    v: int
    time: float
    input: str
    file: str
    line_no: int
    code: str
    message: str
    line: str | None = None
    line_b64: str | None = None

    def text(self) -> str:
        """The line as the parser first saw it."""
        if self.line_b64 is not None:
            return base64.b64decode(self.line_b64).decode("utf-8", "surrogateescape")
        return self.line or ""


_encode = msgspec.json.Encoder().encode


def bad_lines_path(data_dir: Path, input_id: str) -> Path:
    """Where input ``input_id`` sets its bad lines aside."""
    return data_dir / "bad" / f"{input_id}.ndjson"


def rotated(path: Path) -> Path:
    """The older file of ``path`` (``<input id>.ndjson.1``)."""
    return path.with_name(path.name + ".1")


class BadLinesFile:
    """Appends one input's bad lines to its file; opened at the first bad line, closed when dropped."""

    def __init__(self, data_dir: Path, input_id: str, max_bytes: int = MAX_BYTES) -> None:
        self.path = bad_lines_path(data_dir, input_id)
        self.input_id = input_id
        self.max_bytes = max_bytes
        self.kept = 0
        self.dropped = 0
        self._fh: BinaryIO | None = None
        self._size = 0

    def add(self, origin: str, line_no: int, code: str, message: str, line: str) -> None:
        """Set one line aside."""
        now, message = time.time(), message[:MESSAGE_MAX]
        try:
            raw = _encode(BadLineEntry(VERSION, now, self.input_id, origin, line_no, code, message, line))
        except UnicodeEncodeError:  # surrogates: bytes that were not UTF-8
            data = base64.b64encode(line.encode("utf-8", "surrogateescape")).decode("ascii")
            entry = BadLineEntry(
                VERSION, now, self.input_id, _printable(origin), line_no, code, _printable(message), line_b64=data
            )
            raw = _encode(entry)
        fh = self._open()
        if self._size and self._size + len(raw) + 1 > self.max_bytes:
            fh = self._rotate()
        fh.write(raw + b"\n")
        self._size += len(raw) + 1
        self.kept += 1

    def as_dict(self) -> dict[str, object]:
        return {"file": str(self.path), "kept": self.kept, "dropped": self.dropped}

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _open(self) -> BinaryIO:
        if self._fh is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._fh = os.fdopen(fd, "ab", buffering=0)
            weakref.finalize(self, self._fh.close)
            self._size = os.fstat(fd).st_size
        return self._fh

    def _rotate(self) -> BinaryIO:
        older = rotated(self.path)
        if older.exists():
            self.dropped += sum(1 for _ in older.open("rb"))
        self.close()
        os.replace(self.path, older)
        self._size = 0
        return self._open()


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_entries(path: Path) -> Iterator[BadLineEntry | None]:
    """The entries of one bad-lines file in order; None for a line that is not an entry (a torn last write)."""
    decoder = msgspec.json.Decoder(BadLineEntry)
    with path.open("rb") as fh:
        for raw in fh:
            try:
                yield decoder.decode(raw)
            except msgspec.DecodeError:
                yield None
