"""``gc_paused``: the GC pause nests, and leaves GC as it found it."""

from __future__ import annotations

import gc

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
