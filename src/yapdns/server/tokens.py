"""Bearer tokens: how they look, how they are stored.

A token is ``<kind prefix>_<40 random URL-safe characters>`` (``ys_`` for a
sensor's ingest token, ``yq_`` for a user's query token). Only its SHA-256
digest and a short display prefix are stored; the token itself is shown
once, at creation. SHA-256 (not a slow password hash) is right here: the
tokens carry 240 bits of randomness, so they cannot be guessed offline.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, NamedTuple

TokenKind = Literal["sensor", "query"]
_PREFIX: dict[TokenKind, str] = {"sensor": "ys_", "query": "yq_"}
DISPLAY_CHARS = 10


class NewToken(NamedTuple):
    token: str  # shown once, never stored
    prefix: str  # stored, for display ("ys_AbC1234…")
    digest: str  # stored, for lookup


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def generate(kind: TokenKind) -> NewToken:
    token = _PREFIX[kind] + secrets.token_urlsafe(30)
    return NewToken(token, token[:DISPLAY_CHARS], digest(token))


def kind_of(token: str) -> TokenKind | None:
    """Which kind a presented token claims to be (by prefix), if any."""
    for kind, prefix in _PREFIX.items():
        if token.startswith(prefix):
            return kind
    return None
