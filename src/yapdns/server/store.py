"""The record store of this server process: opened once, lazily, after any fork."""

from __future__ import annotations

import threading

from yapdns.storage.base import Store
from yapdns.storage.registry import open_configured_store

_store: Store | None = None
_lock = threading.Lock()


def get_store() -> Store:
    """The process-wide store (opened on first use, from the same settings as the CLI)."""
    global _store  # noqa: PLW0603  (one store per process by design)
    if _store is None:
        with _lock:
            if _store is None:
                _store = open_configured_store()
    return _store


def reset_store() -> None:
    """Close and forget the store (tests; settings changes)."""
    global _store  # noqa: PLW0603
    with _lock:
        if _store is not None:
            _store.close()
        _store = None
