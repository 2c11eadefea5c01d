"""SAF (Streaming API Framing): ``begin``, one ``obj`` line per row, exactly one terminator.

``saf_lines`` turns a row iterator into the byte chunks of a 200 answer:

* ``{"cond":"begin"}`` first;
* ``{"obj":{...}}`` per row, at most ``limit`` of them;
* then ``succeeded``; or ``limited`` when a row beyond ``limit`` exists (the
  caller's iterator yields up to ``limit + 1``) or the scan ran out of time;
  or ``failed`` when anything goes wrong after the 200 went out, so a
  client never mistakes a broken stream for a complete one.

Lines are minified JSON, each ending in ``\\n``, sent in chunks of about
64 KiB so that a million-row answer streams with flat memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import msgspec

from yapdns.core.errors import YapdnsError
from yapdns.storage.flex import FlexTimeoutError

log = logging.getLogger("yapdns.compat")
_encode = msgspec.json.Encoder().encode
CHUNK_BYTES = 64 * 1024
BEGIN = b'{"cond":"begin"}\n'
SUCCEEDED = b'{"cond":"succeeded"}\n'


def terminator(cond: str, msg: str | None = None) -> bytes:
    return _encode({"cond": cond, "msg": msg} if msg else {"cond": cond}) + b"\n"


def saf_lines(rows: Iterable[dict[str, object]], limit: int) -> Iterator[bytes]:
    """The framed answer (see module doc)."""
    yield BEGIN
    buf: list[bytes] = []
    size = 0
    sent = 0
    try:
        for obj in rows:
            if sent >= limit:
                yield b"".join(buf) + terminator("limited", "Result limit reached")
                return
            line = b'{"obj":' + _encode(obj) + b"}\n"
            buf.append(line)
            size += len(line)
            sent += 1
            if size >= CHUNK_BYTES:
                yield b"".join(buf)
                buf, size = [], 0
    except FlexTimeoutError:
        yield b"".join(buf) + terminator("limited", "Query time limit reached")
        return
    except YapdnsError as exc:
        yield b"".join(buf) + terminator("failed", str(exc)[:200])
        return
    except Exception:
        log.exception("DNSDB answer failed mid-stream")
        yield b"".join(buf) + terminator("failed", "Internal error")
        return
    yield b"".join(buf) + SUCCEEDED
