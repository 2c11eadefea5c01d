"""Frame Streams (fstrm), the framing dnstap travels in: an incremental decoder and the control frames.

A stream is a sequence of frames, each a big-endian uint32 length and that
many bytes. A length of 0 escapes a control frame: uint32 length, uint32
type (ACCEPT 1, START 2, STOP 3, READY 4, FINISH 5), then fields of uint32
type (1 = content type), uint32 length and bytes. Files hold START, data
frames, STOP; bidirectional sockets add the READY/ACCEPT and STOP/FINISH
handshakes (farsightsec/fstrm ``fstrm/control.h``; BIND and unbound).

``FrameDecoder`` takes bytes as they come and yields whole frames. It holds
at most one frame in memory; a data frame longer than ``max_frame`` or a
control frame longer than 512 bytes (the fstrm limit) raises
``FrameError``: the stream cannot be resynchronised after that, and the
caller drops the connection or the rest of the file.

The PyPI ``fstrm`` package was considered and not used (docs/dependencies.md).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5
CONTROL_NAMES = {ACCEPT: "ACCEPT", START: "START", STOP: "STOP", READY: "READY", FINISH: "FINISH"}
FIELD_CONTENT_TYPE = 1
MAX_CONTROL = 512
DEFAULT_MAX_FRAME = 1 << 20

_U32 = struct.Struct("!I")
_U32X2 = struct.Struct("!II")


class FrameError(ValueError):
    """The byte stream is not valid Frame Streams; it cannot be resynchronised."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Frame(NamedTuple):
    """A data frame (``control`` 0, ``payload`` set) or a control frame (``content_types`` set)."""

    control: int
    payload: bytes = b""
    content_types: tuple[bytes, ...] = ()


class FrameDecoder:
    """Incremental Frame Streams decoder: ``feed`` bytes, iterate ``frames``."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._pos = 0
        self.consumed = 0  # bytes of whole frames returned so far (a resume offset)

    def feed(self, data: bytes) -> None:
        if self._pos and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a whole frame."""
        return len(self._buf) - self._pos

    def frames(self) -> Iterator[Frame]:
        """Every whole frame buffered so far; raises ``FrameError`` on a broken stream."""
        buf = self._buf
        while True:
            pos = self._pos
            avail = len(buf) - pos
            if avail < 4:
                return
            (length,) = _U32.unpack_from(buf, pos)
            if length:
                if length > self.max_frame:
                    raise FrameError("frame_too_large", f"data frame of {length} bytes (limit {self.max_frame})")
                if avail < 4 + length:
                    return
                self._advance(4 + length)
                yield Frame(0, bytes(buf[pos + 4 : pos + 4 + length]))
                continue
            if avail < 8:
                return
            (clen,) = _U32.unpack_from(buf, pos + 4)
            if not 4 <= clen <= MAX_CONTROL:
                raise FrameError("bad_control_frame", f"control frame of {clen} bytes")
            if avail < 8 + clen:
                return
            self._advance(8 + clen)
            yield parse_control(bytes(buf[pos + 8 : pos + 8 + clen]))

    def _advance(self, size: int) -> None:
        self._pos += size
        self.consumed += size


def parse_control(body: bytes) -> Frame:
    """Decode a control frame body (type and fields); raises ``FrameError``."""
    (ctype,) = _U32.unpack_from(body, 0)
    if ctype not in CONTROL_NAMES:
        raise FrameError("bad_control_frame", f"unknown control frame type {ctype}")
    types: list[bytes] = []
    off = 4
    while off < len(body):
        if off + 8 > len(body):
            raise FrameError("bad_control_frame", "control field header cut short")
        ftype, flen = _U32X2.unpack_from(body, off)
        off += 8
        if off + flen > len(body):
            raise FrameError("bad_control_frame", "control field runs past the frame")
        if ftype == FIELD_CONTENT_TYPE:
            types.append(body[off : off + flen])
        off += flen
    return Frame(ctype, b"", tuple(types))


def encode_control(ctype: int, content_types: tuple[bytes, ...] = ()) -> bytes:
    """A whole control frame (with its escape), as sent in the handshake."""
    fields = b"".join(_U32X2.pack(FIELD_CONTENT_TYPE, len(ct)) + ct for ct in content_types)
    body = _U32.pack(ctype) + fields
    return _U32X2.pack(0, len(body)) + body


def encode_data(payload: bytes) -> bytes:
    """A whole data frame."""
    return _U32.pack(len(payload)) + payload


def accepts_dnstap(frame: Frame) -> bool:
    """Whether a READY or START frame offers dnstap (no content type at all means "anything")."""
    return not frame.content_types or CONTENT_TYPE in frame.content_types
