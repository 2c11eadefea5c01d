"""The harvester: one per open file; reads complete lines from where the registry says.

Guarantees:

* only complete lines reach the parser; a half-written last line waits for
  its newline, unless the file was rotated away (or the run is one-shot) and
  the writer has gone quiet, in which case it is the file's last line;
* ``state.offset`` always sits at a line boundary, so a restart resumes on
  the next line, never inside one;
* a line longer than ``max_line_bytes`` is counted (``line_too_long``) and
  skipped without ever being held in memory whole;
* truncation (the file shrank, or it was modified and its first bytes
  changed while it kept its inode: copytruncate, a rewrite in place) is
  reported, never papered over, so the caller can start a new state for
  the new content;
* bytes that are not UTF-8 are kept as surrogates (``surrogateescape``); the
  parser and the normalizer reject the names they would spoil, and count them;
* ``state.parser`` is the parser's own state at ``state.offset``
  (``LineParser.save_state``: held observations, a partial record, context
  such as a header), refreshed by ``sync_state`` whenever the input takes a
  snapshot; a new harvester loads it, so lines after the offset give exactly
  what they would have given without the restart. ``flush_idle`` releases,
  once per quiet spell, what the parser holds in case more lines come.

A harvester for a ``DocumentParser`` format reads the whole file once it has
stopped changing (``DocumentHarvester``).
"""

from __future__ import annotations

import logging
import os
import time
from typing import BinaryIO

import msgspec

from yapdns.agent.identity import FileState, ParserState, extend_fingerprint, same_prefix
from yapdns.agent.parsers.base import LineParser
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
HEADER_REPLAY_BYTES = 64 << 20


class Harvest(msgspec.Struct):
    """What one poll produced."""

    observations: list[Observation]
    advanced: bool = False  # new bytes were consumed (the state moved)
    truncated: bool = False  # the file is no longer the content the state describes


class LineHarvester:
    """Tails one file line by line through one parser instance."""

    def __init__(self, fh: BinaryIO, state: FileState, run: ParseRun, *, max_line_bytes: int, fp_bytes: int) -> None:
        self.fh = fh
        self.state = state
        self.run = run
        self.max_line_bytes = max_line_bytes
        self.fp_bytes = fp_bytes
        self.rotated = False  # no longer found under a watched name
        self.last_activity = time.monotonic()
        self._pending = bytearray()  # bytes after the last newline
        self._skipping = False  # inside a line that is too long
        self._read_pos = state.offset
        self._mtime = 0  # modification time at the last identity check
        self._dirty = False  # lines parsed (or held data released) since the last sync_state
        self._quiet = state.parser is not None and state.parser.quiet  # released since the last line
        if state.offset > 0:
            self._replay_header()
            self._load_parser_state()

    @property
    def size(self) -> int:
        return os.fstat(self.fh.fileno()).st_size

    def at_eof(self) -> bool:
        return self._read_pos >= self.size

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity

    def poll(self, budget: int = 4 * READ_CHUNK) -> Harvest:
        """Read up to ``budget`` bytes of new data; parse the complete lines."""
        st = os.fstat(self.fh.fileno())
        size, changed = st.st_size, st.st_mtime_ns != self._mtime
        if size < self._read_pos or ((size > self._read_pos or changed) and not same_prefix(self.fh, self.state)):
            return Harvest([], truncated=True)
        self._mtime = st.st_mtime_ns
        if size == self._read_pos:
            return Harvest([])
        extend_fingerprint(self.fh, self.state, self.fp_bytes)
        data = os.pread(self.fh.fileno(), min(budget, size - self._read_pos), self._read_pos)
        self._read_pos += len(data)
        self.last_activity = time.monotonic()
        return Harvest(self._consume(data), advanced=True)

    def finish(self) -> list[Observation]:
        """The file is done (rotated and quiet, or one-shot at its end): its last partial line counts."""
        out: list[Observation] = []
        if self._pending and not self._skipping:
            out.extend(self._lines([bytes(self._pending)]))
            self.state.offset = self._read_pos
        self._pending.clear()
        return out + self.drain()

    def drain(self) -> list[Observation]:
        """The end of this content: all the parser holds (``flush``), without the half-written last line."""
        self.run.stats.origin = self.state.path
        self._dirty = self._quiet = True
        return list(self.run.flush())

    def flush_idle(self) -> list[Observation] | None:
        """The file went quiet: what the parser releases (``None``: nothing held, or released already)."""
        if self._quiet:
            return None
        self.sync_state()
        self._quiet = True
        if self.state.parser is None:
            return None
        self.run.stats.origin = self.state.path
        self._dirty = True
        return self.run.flush_idle()

    def sync_state(self) -> None:
        """Store the parser's state in ``state.parser`` (before the input's snapshot)."""
        if not self._dirty:
            return
        self._dirty = False
        parser = self.run.parser
        assert isinstance(parser, LineParser)
        data = parser.save_state()
        self.state.parser = None if data is None else ParserState(parser.name, parser.state_version, data, self._quiet)

    def close(self) -> None:
        self.fh.close()

    def _consume(self, data: bytes) -> list[Observation]:
        if self._skipping:
            cut = data.find(b"\n")
            if cut < 0:
                return []
            self._skipping = False
            self.state.offset = self._read_pos - len(data) + cut + 1
            self.state.line_no += 1
            data = data[cut + 1 :]
        self._pending += data
        end = self._pending.rfind(b"\n")
        if end < 0:
            self._check_overlong()
            return []
        complete = bytes(self._pending[: end + 1])
        del self._pending[: end + 1]
        out = self._lines(complete.split(b"\n")[:-1])
        self.state.offset = self._read_pos - len(self._pending)
        self._check_overlong()
        return out

    def _check_overlong(self) -> None:
        if len(self._pending) <= self.max_line_bytes:
            return
        self.run.stats.lines += 1
        line_no = self.state.line_no + 1
        text = bytes(self._pending[:300]).decode("utf-8", "surrogateescape")
        self.run.stats.bad(
            line_no, "line_too_long", f"line longer than {self.max_line_bytes} bytes", text, self.state.path
        )
        self._pending.clear()
        self._skipping = True

    def _lines(self, raw_lines: list[bytes]) -> list[Observation]:
        out: list[Observation] = []
        self.run.stats.origin = self.state.path
        for raw in raw_lines:
            self.state.line_no += 1
            self.run.stats.bytes += len(raw) + 1
            if len(raw) > self.max_line_bytes:
                self.run.stats.lines += 1
                text = raw[:300].decode("utf-8", "surrogateescape")
                message = f"line of {len(raw)} bytes (limit {self.max_line_bytes})"
                self.run.stats.bad(self.state.line_no, "line_too_long", message, text, self.state.path)
                continue
            line = raw.removesuffix(b"\r").decode("utf-8", "surrogateescape")
            out.extend(self.run.line(line, self.state.line_no))
        self._dirty, self._quiet = True, False
        return out

    def _load_parser_state(self) -> None:
        """Give the parser the state it saved at this offset before a restart (if it can read it)."""
        saved, parser = self.state.parser, self.run.parser
        if saved is None:
            return
        assert isinstance(parser, LineParser)
        try:
            if (saved.format, saved.version) != (parser.name, parser.state_version):
                raise ValueError(f"saved by {saved.format} version {saved.version}")
            parser.load_state(saved.data)
        except Exception as exc:  # another format or release, or a damaged state: lose it, loudly, and go on
            message = f"parser state at offset {self.state.offset} not loaded ({exc}); lines it held are lost"
            log.error("%s: %s", self.state.path, message)
            self.run.stats.bad(self.state.line_no, "state_not_loaded", message, "", self.state.path)
            self.run.parser = type(parser)(parser.options)
            self.state.parser = None
            self._replay_header()

    def _replay_header(self) -> None:
        """Show the parser the ``#`` lines before the resume point again (Zeek ``#fields``, even mid-file).

        Files up to ``HEADER_REPLAY_BYTES`` are scanned whole; beyond that only
        the header block at the head is, to keep a resume cheap.
        """
        fd, end = self.fh.fileno(), self.state.offset
        header: list[str] = []
        carry, pos = b"", 0
        while pos < end:
            chunk = carry + os.pread(fd, min(READ_CHUNK, end - pos), pos)
            pos += len(chunk) - len(carry)
            lines = chunk.split(b"\n")
            carry = lines.pop()
            header += [raw.removesuffix(b"\r").decode("utf-8", "surrogateescape") for raw in lines if raw[:1] == b"#"]
            if end > HEADER_REPLAY_BYTES and any(raw[:1] != b"#" for raw in lines):
                break  # a big file: its head block only
        if header:
            self.run.prime(header)


class DocumentHarvester:
    """Reads a whole document (a sandbox report, an export) once it stopped changing."""

    def __init__(
        self, fh: BinaryIO, state: FileState, run: ParseRun, *, max_bytes: int, stable_after: float, fp_bytes: int
    ) -> None:
        self.fh = fh
        self.fp_bytes = fp_bytes
        self.state = state
        self.run = run
        self.max_bytes = max_bytes
        self.stable_after = stable_after
        self.rotated = False
        self.last_activity = time.monotonic()
        self._last_size = -1

    @property
    def size(self) -> int:
        return os.fstat(self.fh.fileno()).st_size

    def at_eof(self) -> bool:
        return self.state.done

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity

    def poll(self, budget: int = 0, *, force: bool = False) -> Harvest:
        """Parse the document once its size held still for ``stable_after`` seconds (or now, if ``force``)."""
        if self.state.done:
            return Harvest([])
        size = self.size
        if size != self._last_size:
            self._last_size, self.last_activity = size, time.monotonic()
            if not force:
                return Harvest([])
        if not force and self.idle_for() < self.stable_after:
            return Harvest([])
        return Harvest(self._read(size), advanced=True)

    def finish(self) -> list[Observation]:
        return [] if self.state.done else self.poll(force=True).observations

    def drain(self) -> list[Observation]:
        return []

    def flush_idle(self) -> list[Observation] | None:
        return None

    def sync_state(self) -> None:
        """A document parser keeps nothing between documents."""

    def close(self) -> None:
        self.fh.close()

    def _read(self, size: int) -> list[Observation]:
        extend_fingerprint(self.fh, self.state, self.fp_bytes)
        self.state.done, self.state.offset, self.state.line_no = True, size, 1
        self.run.stats.bytes += size
        if size > self.max_bytes:
            self.run.stats.lines += 1
            message = f"document of {size} bytes (limit {self.max_bytes})"
            self.run.stats.bad(1, "document_too_large", message, "", self.state.path)
            return []
        self.run.stats.origin = self.state.path
        return list(self.run.document(os.pread(self.fh.fileno(), size, 0)))
