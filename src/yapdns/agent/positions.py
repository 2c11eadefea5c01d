"""The registry file: each input's read positions, as of the newest durable spool commit.

``<data>/registry.json`` = ``{"version": 2, "seq": n, "inputs": {input id:
positions}}``, written atomically (temporary file, fsync, rename, fsync of the
directory). ``seq`` is the spool checkpoint it reflects. The same positions
travel inside the spool's checkpoint frames, in the same fsync as the
batches they cover; at start-up the newer of the two wins. So a position is
never durable before the lines up to it are, and the registry file may lag
the spool but never lead it. For a log input, positions are file states:
identity (device, inode, fingerprint) → offset, and the state the file's
parser had at that offset (version 2; version 1, without it, is still read).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from yapdns.agent.durable import write_atomic

log = logging.getLogger(__name__)

REGISTRY_FILE = "registry.json"
VERSION = 2
READABLE = (1, 2)  # 1: file states without their parser's state


class Checkpoint(msgspec.Struct):
    """Read positions of every input after spool commit ``seq``."""

    seq: int = 0
    inputs: dict[str, Any] = {}
    version: int = VERSION


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Checkpoint).decode


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    return _encode(checkpoint)


def decode_checkpoint(data: bytes, where: str = "spool checkpoint") -> Checkpoint:
    """A checkpoint (raises ``ValueError`` for a version this agent does not read: a newer agent wrote it)."""
    checkpoint = _decode(data)
    if checkpoint.version not in READABLE:
        raise ValueError(f"{where}: registry version {checkpoint.version}, this agent reads {READABLE}")
    return checkpoint


class PositionsFile:
    """``registry.json`` in the agent's data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / REGISTRY_FILE

    def load(self) -> Checkpoint:
        """The saved checkpoint, or an empty one (first start, or an unreadable file set aside)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Checkpoint()
        try:
            return decode_checkpoint(data, str(self.path))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            aside = self.path.with_suffix(".corrupt")
            self.path.rename(aside)
            log.error("registry %s is unreadable (%s); moved to %s, relying on the spool", self.path, exc, aside)
            return Checkpoint()

    def save(self, checkpoint: Checkpoint) -> None:
        write_atomic(self.path, encode_checkpoint(checkpoint))
