"""dnstap files (``type: dnstap``): Frame Streams files as BIND writes them, followed while they grow.

Each configured path (a glob) is read from its START frame to its STOP
frame. A file without STOP is still being written: with ``tail`` it is
polled for more frames (a partial frame at the end is kept until the rest
arrives); with ``once`` the partial tail is counted as ``truncated_frame``.
New files matching a glob are picked up at each poll; a file is known by
``(device, inode)``, so BIND's rotation (rename to ``.0``, new file) neither
loses nor repeats frames.

Read positions: after ``emit`` returns, the offset just past the last frame
used is recorded; ``checkpoint()`` writes them to ``state_file`` (if set),
and a restart resumes each still-present file there. A file whose content
type is not ``protobuf:dnstap.Dnstap``, or whose framing breaks, is counted
and left; other files go on.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import threading
from pathlib import Path
from typing import IO

import msgspec

from yapdns.agent.inputs.base import AgentInput, Emit
from yapdns.agent.wire.dnstap import RESPONSE_TYPES, DnstapDecoder
from yapdns.agent.wire.fstrm import DEFAULT_MAX_FRAME, START, STOP, FrameDecoder, FrameError, accepts_dnstap
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation

READ_SIZE = 1 << 20
FileId = tuple[int, int]


class DnstapFileOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of a ``type: dnstap`` input."""

    paths: list[str]  # files or globs
    tail: bool = True  # keep following files that have no STOP frame yet
    sensor_id: str | None = None  # overrides the dnstap identity
    message_types: list[str] = msgspec.field(default_factory=lambda: list(RESPONSE_TYPES))
    state_file: str | None = None  # where checkpoint() keeps read positions
    poll_interval: float = 0.5
    batch_size: int = 500
    max_frame: int = DEFAULT_MAX_FRAME

    def __post_init__(self) -> None:
        unknown = set(self.message_types) - set(RESPONSE_TYPES)
        if unknown:
            raise ConfigurationError(f"unknown dnstap message types {sorted(unknown)}; use {list(RESPONSE_TYPES)}")


class _OpenFile:
    """One dnstap file being read."""

    def __init__(self, path: str, fh: IO[bytes], fid: FileId, max_frame: int) -> None:
        self.path = path
        self.fh = fh
        self.fid = fid
        self.frames = FrameDecoder(max_frame)
        self.started = False
        self.done = False
        self.base = 0  # file offset where the decoder started


class DnstapFileInput(AgentInput):
    """Reads and follows dnstap Frame Streams files."""

    settings_type = DnstapFileOptions  # its keys in agent.yml (inputs/base.py: the input-type registry)

    def __init__(self, name: str, options: DnstapFileOptions) -> None:
        super().__init__(name)
        self.options = options
        self.counters: collections.Counter[str] = collections.Counter()
        self.decoder = DnstapDecoder(self.stats, self.counters, options.sensor_id, options.message_types)
        self._files: dict[FileId, _OpenFile] = {}
        self._finished: set[FileId] = set()
        self._lock = threading.Lock()
        self._positions: dict[str, tuple[int, int, int, bool]] = {}  # path -> (dev, ino, offset, STOP read)
        self._resume = self._load_state()

    def run(self, emit: Emit, stop: threading.Event, once: bool = False) -> None:
        try:
            while not stop.is_set():
                self._discover()
                progressed = [self._pump(f, emit, once) for f in list(self._files.values())]  # read every file
                if once and not self._files:
                    return
                if not any(progressed):
                    stop.wait(self.options.poll_interval)
        finally:
            for f in self._files.values():
                f.fh.close()

    def checkpoint(self) -> None:
        if not self.options.state_file:
            return
        with self._lock:
            state = {path: list(pos) for path, pos in self._positions.items()}
        tmp = Path(self.options.state_file + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.options.state_file)

    def stats_dict(self) -> dict[str, object]:
        return {**super().stats_dict(), "counters": dict(self.counters)}

    def _load_state(self) -> dict[str, tuple[int, int, int, bool]]:
        path = self.options.state_file
        if not path or not os.path.exists(path):
            return {}
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            return {str(k): (int(v[0]), int(v[1]), int(v[2]), bool(v[3])) for k, v in raw.items()}
        except (ValueError, TypeError, IndexError, AttributeError, OSError):
            self.counters["bad_state_file"] += 1
            return {}

    def _discover(self) -> None:
        for pattern in self.options.paths:
            for path in sorted(glob.glob(pattern)):
                self._open(path)

    def _open(self, path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        fid = (st.st_dev, st.st_ino)
        if fid in self._files or fid in self._finished:
            return
        try:
            fh = open(path, "rb")  # noqa: SIM115  (closed when the file is finished)
        except OSError as exc:
            self.stats.bad(0, "open_failed", str(exc), path)
            self._finished.add(fid)
            return
        self._files[fid] = _OpenFile(path, fh, fid, self.options.max_frame)

    def _pump(self, f: _OpenFile, emit: Emit, once: bool) -> bool:
        """Read what ``f`` has now; True if anything was read."""
        data = f.fh.read(READ_SIZE)
        if data:
            f.frames.feed(data)
            try:
                self._frames(f, emit)
            except FrameError as exc:
                self.stats.bad(0, exc.code, str(exc), f.path)
                f.done = True
        elif once or not self.options.tail:
            if f.frames.pending:
                self.stats.bad(0, "truncated_frame", f"{f.frames.pending} bytes of an unfinished frame", f.path)
            f.done = True
        if f.done:
            self._close(f)
        return bool(data)

    def _frames(self, f: _OpenFile, emit: Emit) -> None:
        batch: list[Observation] = []
        for frame in f.frames.frames():
            if frame.control:
                if not self._control(f, frame.control, accepts_dnstap(frame)):
                    break
                continue
            if not f.started:
                raise FrameError("no_start_frame", "data frame before the START frame")
            batch.extend(self.decoder.decode(frame.payload, self.stats.lines + 1))
            if len(batch) >= self.options.batch_size:
                self._emit(f, emit, batch)
                batch = []
        self._emit(f, emit, batch)

    def _control(self, f: _OpenFile, ctype: int, dnstap: bool) -> bool:
        """Handle a control frame; False to stop reading the buffered frames (file finished or repositioned)."""
        if ctype == START:
            if not dnstap:
                self.stats.bad(0, "wrong_content_type", "the stream is not protobuf:dnstap.Dnstap", f.path)
                f.done = True
                return False
            f.started = True
            return not self._maybe_resume(f)  # after a seek, the buffered frames are stale
        if ctype == STOP:
            f.done = True
            return False
        self.counters["unexpected_control_frame"] += 1
        return True

    def _maybe_resume(self, f: _OpenFile) -> bool:
        """Seek to the saved position of this very file, if any; True if it did."""
        saved = self._resume.pop(f.path, None)
        if saved is None or (saved[0], saved[1]) != f.fid or saved[2] <= f.base + f.frames.consumed:
            return False
        f.fh.seek(saved[2])
        f.base = saved[2]
        f.done = saved[3]  # its STOP frame was read before: nothing more will come
        f.frames = FrameDecoder(self.options.max_frame)
        return True

    def _emit(self, f: _OpenFile, emit: Emit, batch: list[Observation]) -> None:
        if batch:
            emit(batch)
        with self._lock:
            self._positions[f.path] = (*f.fid, f.base + f.frames.consumed, f.done)

    def _close(self, f: _OpenFile) -> None:
        f.fh.close()
        del self._files[f.fid]
        self._finished.add(f.fid)


INPUT = DnstapFileInput
OPTIONS = DnstapFileOptions
