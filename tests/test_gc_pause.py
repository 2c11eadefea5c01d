"""``gcpause``: the GC pause nests and leaves GC as it found it; the startup freeze runs once per process."""

from __future__ import annotations

import gc
import subprocess
import sys

from yapdns.gcpause import gc_paused


def test_gc_is_back_on_after_the_last_user_leaves() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_disabled_by_someone_else_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_inside_still_restores_gc() -> None:
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_startup_objects_are_frozen_once_per_process() -> None:
    # in a child process: freezing the test process would keep its garbage cycles for the whole run
    script = (
        "import gc; from yapdns.gcpause import freeze_startup_objects as f\n"
        "cache = {i: [i] for i in range(1000)}\n"
        "f(); first = gc.get_freeze_count(); more = [[i] for i in range(1000)]; f()\n"
        "print(first, gc.get_freeze_count(), gc.is_tracked(cache), gc.isenabled())"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    first, second = int(out[0]), int(out[1])
    assert first > 1000  # the cache and its lists are out of the collector's sight ...
    assert second == first  # ... and a second call froze nothing more
    assert out[2:] == ["True", "True"]  # frozen objects stay tracked (gc.freeze), GC stays on
