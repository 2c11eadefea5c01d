"""The spool's on-disk format (version 1), documented in docs/agent.md.

A segment file ``<id>.seg`` (id: 16 decimal digits) starts with an 8-byte
header ``"YPSG" | u16 version | u16 reserved`` followed by frames. A frame::

    offset size field
    0      4    magic "YPFR"
    4      1    frame format version (1)
    5      1    type: 1 = batch, 2 = checkpoint
    6      2    flags (0; reserved)
    8      4    payload length (bytes)
    12     4    CRC-32 (IEEE, zlib.crc32) of bytes 4..11 and the payload
    16     n    payload

Integers are big-endian. A batch payload is ``u16 id length | batch id
(ASCII) | u32 observation count | gzip(NDJSON)``; the gzip member is exactly
the body POSTed to the ingest API. A checkpoint payload is a JSON object
``{"seq": n, "inputs": {input id: read positions}, "version": 2}``: the input
positions that the frames before it make durable, with what each file's
parser held at its position (``positions.py``; version 1 had no parser
state).

A reader that meets a bad frame (wrong magic or version, impossible length,
CRC mismatch) counts it and resynchronises on the next ``"YPFR\\x01"``; a
frame cut short at the end of the last segment is a torn write.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import NamedTuple

SEGMENT_MAGIC = b"YPSG"
SEGMENT_VERSION = 1
SEGMENT_HEADER = struct.Struct("!4sHH")
FRAME_MAGIC = b"YPFR"
FRAME_VERSION = 1
FRAME_HEADER = struct.Struct("!4sBBHII")
SYNC = FRAME_MAGIC + bytes([FRAME_VERSION])
TYPE_BATCH = 1
TYPE_CHECKPOINT = 2
MAX_PAYLOAD = 256 << 20
_BATCH_HEAD = struct.Struct("!H")
_COUNT = struct.Struct("!I")


class Frame(NamedTuple):
    kind: int
    offset: int  # where the frame starts in its segment
    end: int  # where the next frame starts
    payload: bytes


class Corrupt(NamedTuple):
    offset: int
    reason: str


class BatchPayload(NamedTuple):
    batch_id: str
    observations: int
    body: bytes  # gzip NDJSON


def segment_header() -> bytes:
    return SEGMENT_HEADER.pack(SEGMENT_MAGIC, SEGMENT_VERSION, 0)


def check_segment_header(data: bytes) -> str | None:
    """Why a segment header is unusable, or ``None`` if it is fine."""
    if len(data) < SEGMENT_HEADER.size:
        return "segment header cut short"
    magic, version, _ = SEGMENT_HEADER.unpack_from(data)
    if magic != SEGMENT_MAGIC:
        return "not a spool segment"
    if version != SEGMENT_VERSION:
        return f"segment format version {version} (this agent reads {SEGMENT_VERSION})"
    return None


def encode_frame(kind: int, payload: bytes) -> bytes:
    head = struct.pack("!BBHI", FRAME_VERSION, kind, 0, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return FRAME_MAGIC + head + struct.pack("!I", crc) + payload


def encode_batch(batch_id: str, count: int, body: bytes) -> bytes:
    raw_id = batch_id.encode("ascii")
    return _BATCH_HEAD.pack(len(raw_id)) + raw_id + _COUNT.pack(count) + body


def decode_batch(payload: bytes) -> BatchPayload:
    (id_len,) = _BATCH_HEAD.unpack_from(payload)
    start = _BATCH_HEAD.size
    batch_id = payload[start : start + id_len].decode("ascii")
    (count,) = _COUNT.unpack_from(payload, start + id_len)
    return BatchPayload(batch_id, count, payload[start + id_len + _COUNT.size :])


def read_frame(fd: int, pos: int, limit: int) -> Frame | Corrupt | None:
    """The frame at ``pos`` of a segment whose valid data ends at ``limit``; ``None`` if cut short."""
    header = os.pread(fd, FRAME_HEADER.size, pos) if pos + FRAME_HEADER.size <= limit else b""
    if len(header) < FRAME_HEADER.size:
        return None
    magic, version, kind, _flags, length, crc = FRAME_HEADER.unpack(header)
    problem = _header_problem(magic, version, kind, length)
    if problem:
        return Corrupt(pos, problem)
    end = pos + FRAME_HEADER.size + length
    payload = os.pread(fd, length, pos + FRAME_HEADER.size) if end <= limit else b""
    if len(payload) < length:
        return None
    if zlib.crc32(payload, zlib.crc32(header[4:12])) != crc:
        return Corrupt(pos, "checksum mismatch")
    return Frame(kind, pos, end, payload)


def frame_kind(fd: int, pos: int) -> int | None:
    """The type byte of the frame at ``pos``, unchecked (the frame is validated when it is read)."""
    header = os.pread(fd, FRAME_HEADER.size, pos)
    return header[5] if len(header) == FRAME_HEADER.size else None


def _header_problem(magic: bytes, version: int, kind: int, length: int) -> str | None:
    if magic != FRAME_MAGIC or version != FRAME_VERSION:
        return "bad frame magic or version"
    if length > MAX_PAYLOAD or kind not in (TYPE_BATCH, TYPE_CHECKPOINT):
        return "impossible frame length or type"
    return None


def resync(fd: int, pos: int, limit: int) -> int:
    """The offset of the next frame start after ``pos`` (``limit`` if none)."""
    chunk = 1 << 20
    start = pos + 1
    while start < limit:
        data = os.pread(fd, min(chunk, limit - start) + len(SYNC) - 1, start)
        found = data.find(SYNC)
        if found >= 0:
            return start + found
        if len(data) < len(SYNC):
            break
        start += len(data) - len(SYNC) + 1
    return limit
