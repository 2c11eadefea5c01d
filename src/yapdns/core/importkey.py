"""What makes two imports of a file the same, for ``yapdns import`` and the server's evidence upload alike.

An import's batch ids are ``import-<key>-<start>-<end>`` (``batch_id``):
``key`` digests the format, the parser options and the file's content, and
``start``/``end`` are the byte offsets the batch covers. The same file read
again (any path, any route) gives the same ids, which the store recognises
as a replay within its replay window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import msgspec


class ParserOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Per-input settings from the agent config (``inputs[].options``) or the import command."""

    timezone: str | None = None  # IANA zone for formats that log local time
    year: int | None = None  # for syslog-style stamps without a year
    sensor_id: str | None = None
    extra: dict[str, str] = {}  # format-specific settings, documented by each parser


def import_key(fmt: str, options: ParserOptions, chunks: Iterable[bytes]) -> str:
    """The digest of the format, the options and the content (given in ``chunks``)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(msgspec.json.encode([fmt, options], order="deterministic") + b"\n")
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def batch_id(key: str, start: int, end: int) -> str:
    """The id of an import's batch covering the bytes ``start``..``end`` of the file."""
    return f"import-{key}-{start}-{end}"
