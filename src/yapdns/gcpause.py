"""Keeping Python's cyclic GC out of the hot paths: ``gc_paused`` and ``freeze_startup_objects``.

``gc_paused`` pauses automatic collections while a hot loop allocates many short-lived containers.

Each automatic collection walks the live objects of its generation, and a
full one walks every live object of the process; a loop that allocates
hundreds of thousands of lists and tuples (none of them in a cycle) sets
off collections whose cost grows with everything else the process holds.
The store writer pauses GC while a group is applied (storage/group.py), the
packet-capture inputs while a batch is processed (agent/inputs/pcap*.py).
Cycles made meanwhile are collected after the pause.

``freeze_startup_objects`` moves every object alive when a long-running
process has started its work out of the collector's sight (``gc.freeze``):
the module-level caches (name and rdata normalization, the wire decoders')
grow to hundreds of thousands of entries, and every full collection would
walk them all (a one-off measurement on the pcap benchmark: full
collections took 0.36-0.50 s of a 1M-packet run before, 0.16-0.17 s
after). Objects
made later are collected as usual; what was alive at the freeze and later
becomes garbage in a reference cycle is never collected, which is why it
runs once, at start, after a full collection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _GcPause:
    """Pauses automatic cyclic GC while any thread is inside (concurrent and nested uses are counted).

    GC is re-enabled when the last user leaves, and only if it was enabled
    when the first one came in.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._was_enabled = True

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._was_enabled:
                    gc.enable()


gc_paused = _GcPause()


_freeze_lock = threading.Lock()
_frozen = False


def freeze_startup_objects() -> None:
    """Collect, then freeze every object alive now (once per process; later calls do nothing)."""
    global _frozen  # noqa: PLW0603 - one process-wide switch
    with _freeze_lock:
        if _frozen:
            return
        _frozen = True
        gc.collect()
        gc.freeze()
