"""The disk spool: durable, bounded, checksummed storage of batches between aggregator and shipper.

Guarantees (the format is in ``spool_format.py`` and docs/agent.md):

* ``commit`` appends a group of batch frames and one checkpoint frame (the
  input positions they make durable), then fsyncs: the positions and the
  batches become durable together, or (after a crash mid-write) neither does:
  ``open`` drops everything after the last checkpoint frame, so those lines
  are read again and nothing is counted twice.
* The shipper only ever sees committed batches, in order; a batch leaves the
  spool only through ``ack``. ``next_unsent`` hands out the batches after
  those already handed out (several may be in flight), but ``ack`` takes
  them strictly in the order they were handed out, so the saved cursor never
  passes a batch that was not acknowledged. A segment file is deleted only
  once every batch in it was acknowledged and the registry file holds
  positions at least as new as its checkpoints.
* A bad frame (checksum, magic, length) is counted and skipped; the frames
  after it are still read.
* ``wait_writable`` blocks while the segments on disk reach ``max_bytes``
  (backpressure); one commit may overshoot the limit by its own size.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import BinaryIO, NamedTuple

from yapdns.agent import spool_format as fmt
from yapdns.agent.durable import fsync_dir, write_atomic
from yapdns.core.private import open_private, private_dir

log = logging.getLogger(__name__)

CURSOR_FILE = "cursor.json"
CURSOR_SAVE_INTERVAL = 1.0


class SpoolRef(NamedTuple):
    segment: int
    offset: int
    end: int


class SpooledBatch(NamedTuple):
    ref: SpoolRef
    batch_id: str
    observations: int
    body: bytes  # gzip NDJSON


class Recovery(NamedTuple):
    checkpoint: bytes | None  # payload of the newest durable checkpoint frame
    batches: int  # committed batches not yet acknowledged
    discarded_bytes: int  # uncommitted or torn bytes dropped from the tail
    corrupt_frames: int


class _Segment:
    def __init__(self, ident: int, size: int) -> None:
        self.id = ident
        self.size = size
        self.max_seq = 0  # newest checkpoint sequence inside


class DiskSpool:
    """Segment files under ``directory``; one writer (the pipeline) and one reader (the shipper)."""

    def __init__(self, directory: Path, *, max_bytes: int, segment_bytes: int) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.corrupt_frames = 0
        self.pending_batches = 0
        self.registry_seq = 0
        self._cond = threading.Condition()
        self._segments: dict[int, _Segment] = {}
        self._writer: BinaryIO | None = None
        self._reader: tuple[int, int] | None = None  # (segment id, fd)
        self._cursor = (0, 0)  # the oldest batch not acknowledged (or where the next one will be)
        self._ahead = (0, 0)  # after the newest batch handed out; the cursor while none is outstanding
        self._outstanding: collections.deque[SpoolRef] = collections.deque()  # handed out, not acknowledged
        self._walked = (0, 0)  # how far any read went: a bad frame is counted once, also after a rewind
        self._committed = (0, 0)
        self._cursor_saved = 0.0
        self._closed = False
        self._last_id = 0  # the highest segment id ever used here: ids are never reused
        self._backlog: collections.deque[list[float]] = collections.deque()  # [commit time, batches not acked]

    # -- opening and recovery -------------------------------------------------

    def open(self) -> Recovery:
        """Scan the segments, drop the uncommitted tail, start a fresh segment for writing."""
        private_dir(self.dir)
        last: tuple[int, int, bytes] | None = None  # segment, end, payload of the newest checkpoint
        corrupt = 0
        batches: list[tuple[int, int]] = []
        self._last_id = max(self._segment_ids(), default=0)
        for ident in self._segment_ids():
            found, bad, ckpt = self._scan(ident)
            batches += found
            corrupt += bad
            last = ckpt or last
        discarded = self._truncate_after(last)
        self._cursor = self._ahead = self._load_cursor()
        self.pending_batches = sum(1 for b in batches if self._at_or_after_cursor(b) and self._committed_at(b, last))
        if self.pending_batches:  # their commit times are not kept: count their age from now
            self._backlog.append([time.time(), self.pending_batches])
        self._start_segment()
        log.debug(
            "spool: opened; cursor %s, last checkpoint %s, %d batches", self._cursor, last and last[:2], len(batches)
        )
        return Recovery(last[2] if last else None, self.pending_batches, discarded, corrupt)

    def _segment_ids(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.seg") if p.stem.isdigit())

    def _path(self, ident: int) -> Path:
        return self.dir / f"{ident:016d}.seg"

    def _scan(self, ident: int) -> tuple[list[tuple[int, int]], int, tuple[int, int, bytes] | None]:
        path = self._path(ident)
        with path.open("rb") as fh:
            problem = fmt.check_segment_header(fh.read(fmt.SEGMENT_HEADER.size))
            if problem:
                log.error("spool: %s: %s; moved aside", path.name, problem)
                path.rename(path.with_suffix(".corrupt"))
                return [], 1, None
            segment = self._segments[ident] = _Segment(ident, os.fstat(fh.fileno()).st_size)
            batches: list[tuple[int, int]] = []
            corrupt, last = 0, None
            pos = fmt.SEGMENT_HEADER.size
            while pos < segment.size:
                frame = fmt.read_frame(fh.fileno(), pos, segment.size)
                if frame is None:
                    break  # torn tail
                if isinstance(frame, fmt.Corrupt):
                    corrupt += 1
                    pos = fmt.resync(fh.fileno(), pos, segment.size)
                    continue
                if frame.kind == fmt.TYPE_BATCH:
                    batches.append((ident, frame.offset))
                else:
                    segment.max_seq = max(segment.max_seq, _checkpoint_seq(frame.payload))
                    last = (ident, frame.end, frame.payload)
                pos = frame.end
        return batches, corrupt, last

    def _truncate_after(self, last: tuple[int, int, bytes] | None) -> int:
        """Drop the frames after the newest checkpoint (an unfinished commit, a torn write)."""
        discarded = 0
        for ident in list(self._segments):
            segment = self._segments[ident]
            keep = fmt.SEGMENT_HEADER.size
            if last and ident < last[0]:
                continue
            if last and ident == last[0]:
                keep = last[1]
            discarded += segment.size - keep
            if keep <= fmt.SEGMENT_HEADER.size and not (last and ident == last[0]):
                self._path(ident).unlink()
                del self._segments[ident]
            elif segment.size > keep:
                os.truncate(self._path(ident), keep)
                segment.size = keep
        if discarded:
            log.warning("spool: dropped %d bytes of unfinished commits; those lines will be read again", discarded)
        return discarded

    @staticmethod
    def _committed_at(batch: tuple[int, int], last: tuple[int, int, bytes] | None) -> bool:
        return last is not None and (batch[0], batch[1]) < (last[0], last[1])

    def _at_or_after_cursor(self, batch: tuple[int, int]) -> bool:
        return batch >= self._cursor

    def _load_cursor(self) -> tuple[int, int]:
        """The saved read position if it is still valid, else the start of the oldest segment."""
        oldest = (min(self._segments, default=0), fmt.SEGMENT_HEADER.size)
        try:
            saved = json.loads((self.dir / CURSOR_FILE).read_text())
            cursor = (int(saved["segment"]), int(saved["offset"]))
        except (OSError, ValueError, KeyError, TypeError):
            return oldest
        self._last_id = max(self._last_id, cursor[0])  # never reuse an id a stale cursor file may name
        segment = self._segments.get(cursor[0])
        valid = segment is not None and fmt.SEGMENT_HEADER.size <= cursor[1] <= segment.size
        return cursor if valid else oldest

    def _start_segment(self) -> None:
        """Seal the segment being written (if any) and start the next one."""
        if self._writer is not None:
            self._writer.close()
        ident = self._last_id = max(self._last_id, max(self._segments, default=0)) + 1
        fh = os.fdopen(open_private(self._path(ident)), "wb")
        fh.write(fmt.segment_header())
        fh.flush()
        os.fsync(fh.fileno())
        fsync_dir(self.dir)
        self._writer = fh
        self._segments[ident] = _Segment(ident, fmt.SEGMENT_HEADER.size)
        self._committed = (ident, fmt.SEGMENT_HEADER.size)
        self._normalize_cursor()

    def _normalize_cursor(self) -> None:
        """Move a cursor standing at the end of a sealed (or vanished) segment to the next segment."""
        self._cursor = self._segment_start(self._cursor)
        if not self._outstanding:
            self._ahead = self._cursor

    def _segment_start(self, position: tuple[int, int]) -> tuple[int, int]:
        """``position``, or the start of the next segment if it stands at the end of a sealed (or vanished) one."""
        while True:
            ident, pos = position
            segment = self._segments.get(ident)
            if ident == self._committed[0] or (segment is not None and pos < segment.size):
                return position
            later = [i for i in self._segments if i > ident]
            if not later:
                return position
            position = (min(later), fmt.SEGMENT_HEADER.size)

    # -- writing ---------------------------------------------------------------

    def used_bytes(self) -> int:
        return sum(s.size for s in self._segments.values())

    def is_full(self) -> bool:
        with self._cond:
            return self.used_bytes() >= self.max_bytes

    def wait_writable(self, stop: threading.Event | None = None, timeout: float | None = None) -> bool:
        """Block while the spool is full; ``False`` if stopped or timed out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self.used_bytes() >= self.max_bytes:
                if self._caught_up() and self._segments[self._committed[0]].size > fmt.SEGMENT_HEADER.size:
                    self._start_segment()
                    self._collect()
                    continue
                if self._closed or (stop is not None and stop.is_set()):
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                self._cond.wait(0.2)
            return True

    def commit(self, batches: list[tuple[str, int, bytes]], checkpoint: bytes, seq: int) -> None:
        """Append ``(batch id, count, gzip body)`` frames and the checkpoint, durably, as one unit."""
        assert self._writer is not None
        data = b"".join(fmt.encode_frame(fmt.TYPE_BATCH, fmt.encode_batch(*b)) for b in batches)
        data += fmt.encode_frame(fmt.TYPE_CHECKPOINT, checkpoint)
        segment = self._segments[self._committed[0]]
        try:
            self._writer.write(data)
            self._writer.flush()
            os.fsync(self._writer.fileno())
        except OSError:
            os.ftruncate(self._writer.fileno(), segment.size)  # no half commit stays behind
            raise
        log.debug("spool: commit %d in segment %d: %s", seq, segment.id, [b[0] for b in batches])
        with self._cond:
            segment.size += len(data)
            segment.max_seq = seq
            self._committed = (segment.id, segment.size)
            self.pending_batches += len(batches)
            if batches:
                self._backlog.append([time.time(), len(batches)])
            if segment.size >= self.segment_bytes:
                self._start_segment()
            self._cond.notify_all()

    def set_registry_seq(self, seq: int) -> None:
        """The registry file now holds the positions of checkpoint ``seq``: older segments may go."""
        with self._cond:
            self.registry_seq = seq
            self._collect()

    # -- reading ---------------------------------------------------------------

    def next_batch(self, timeout: float) -> SpooledBatch | None:
        """The oldest unacknowledged committed batch (the same one until it is acked): ``rewind``, then
        ``next_unsent``."""
        self.rewind()
        return self.next_unsent(timeout)

    def next_unsent(self, timeout: float) -> SpooledBatch | None:
        """The next committed batch after those handed out since the last ``rewind``, in spool order; ``None``
        if none is committed within ``timeout``. ``ack`` takes them back in the order they were handed out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                self._ahead, batch = self._walk(self._ahead)
                if not self._outstanding:
                    self._cursor = self._ahead  # it stepped over checkpoints and bad frames only
                if batch is not None:
                    self._outstanding.append(batch.ref)
                    self._ahead = (batch.ref.segment, batch.ref.end)
                    return batch
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        return None

    def rewind(self) -> None:
        """Forget what was handed out and not acknowledged: ``next_unsent`` starts again at the oldest."""
        with self._cond:
            self._outstanding.clear()
            self._ahead = self._cursor

    def ack(self, ref: SpoolRef) -> None:
        """The batch at ``ref`` is done (delivered or quarantined); it must be the oldest handed out."""
        with self._cond:
            if not self._outstanding or self._outstanding[0] != ref:
                raise ValueError(f"ack out of order: {ref} while the cursor is at {self._cursor}")
            self._outstanding.popleft()
            if self._outstanding:
                self._cursor = self._outstanding[0][:2]
            else:  # step over checkpoints, so a finished segment can go
                self._cursor, _ = self._walk(max(self._ahead, (ref.segment, ref.end)), load=False)
                self._ahead = self._cursor
            self.pending_batches -= 1
            if self._backlog:
                self._backlog[0][1] -= 1
                if self._backlog[0][1] <= 0:
                    self._backlog.popleft()
            self._collect()
            if time.monotonic() - self._cursor_saved >= CURSOR_SAVE_INTERVAL:
                try:
                    self._save_cursor()
                except OSError as exc:  # a stale cursor file only makes the server see replays
                    log.warning("spool: cannot save %s (%s); will try again", CURSOR_FILE, exc)
            self._cond.notify_all()

    def _caught_up(self) -> bool:
        return self._cursor >= self._committed

    def _walk(self, position: tuple[int, int], load: bool = True) -> tuple[tuple[int, int], SpooledBatch | None]:
        """From ``position`` over checkpoints, bad frames and segment ends to the next batch frame: its position
        and the batch (read only if ``load``); or where it stopped and ``None`` when no batch is committed yet."""
        while True:
            ident, pos = position
            active = ident == self._committed[0]
            limit = self._committed[1] if active else self._segments[ident].size
            if pos >= limit:
                if active or (following := self._segment_start(position)) == position:
                    return position, None
                position = following
                continue
            fd = self._reader_fd(ident)
            if not load and fmt.frame_kind(fd, pos) == fmt.TYPE_BATCH:
                return position, None
            frame = fmt.read_frame(fd, pos, limit)
            if frame is None or isinstance(frame, fmt.Corrupt):
                if position >= self._walked:
                    self.corrupt_frames += 1
                    log.error("spool: segment %d offset %d: %s; skipped", ident, pos, frame.reason if frame else
                              "frame cut short")
                position = (ident, fmt.resync(fd, pos, limit))
                self._walked = max(self._walked, position)
                continue
            if frame.kind == fmt.TYPE_CHECKPOINT:
                position = (ident, frame.end)
                continue
            self._walked = max(self._walked, (ident, frame.end))
            batch = fmt.decode_batch(frame.payload)
            return position, SpooledBatch(
                SpoolRef(ident, frame.offset, frame.end), batch.batch_id, batch.observations, batch.body
            )

    def _reader_fd(self, ident: int) -> int:
        if self._reader is not None and self._reader[0] == ident:
            return self._reader[1]
        if self._reader is not None:
            os.close(self._reader[1])
        fd = os.open(self._path(ident), os.O_RDONLY)
        self._reader = (ident, fd)
        return fd

    def _collect(self) -> None:
        """Delete segments entirely behind the cursor whose checkpoints the registry file holds."""
        for ident in sorted(self._segments):
            segment = self._segments[ident]
            if ident >= self._cursor[0] or ident == self._committed[0] or segment.max_seq > self.registry_seq:
                break
            if self._reader is not None and self._reader[0] == ident:
                os.close(self._reader[1])
                self._reader = None
            self._path(ident).unlink(missing_ok=True)
            del self._segments[ident]
            self._cond.notify_all()

    def _save_cursor(self) -> None:
        data = json.dumps({"segment": self._cursor[0], "offset": self._cursor[1]}).encode()
        write_atomic(self.dir / CURSOR_FILE, data)
        self._cursor_saved = time.monotonic()

    # -- stats and closing -----------------------------------------------------

    def backlog_age(self) -> float:
        """Seconds since the oldest batch not yet acknowledged was committed (batches recovered at start:
        since the start); 0 when caught up."""
        with self._cond:
            return max(0.0, time.time() - self._backlog[0][0]) if self._backlog else 0.0

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "batches": self.pending_batches,
                "bytes": self.used_bytes(),
                "segments": len(self._segments),
                "corrupt_frames": self.corrupt_frames,
            }

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._save_cursor()
            if self._writer is not None:
                self._writer.close()
            if self._reader is not None:
                os.close(self._reader[1])
                self._reader = None
            self._cond.notify_all()


def _checkpoint_seq(payload: bytes) -> int:
    try:
        return int(json.loads(payload)["seq"])
    except (ValueError, KeyError, TypeError):
        return 0
