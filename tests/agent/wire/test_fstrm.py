"""wire.fstrm and wire.dnstap: Frame Streams split at any byte, and garbage, on BIND's real dnstap frames."""

from __future__ import annotations

import collections
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agent.wire.captured import DNSTAP, dnstap_frames
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire.dnstap import DnstapDecoder
from yapdns.agent.wire.fstrm import FrameDecoder, FrameError

RAW = DNSTAP.read_bytes()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, len(RAW) - 1), max_size=30))
def test_frames_are_the_same_however_the_bytes_arrive(cuts: list[int]) -> None:
    dec = FrameDecoder()
    got = []
    bounds = [0, *sorted(set(cuts)), len(RAW)]
    for a, b in itertools.pairwise(bounds):
        dec.feed(RAW[a:b])
        got += [f.payload for f in dec.frames() if not f.control]
    assert got == dnstap_frames() and dec.pending == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_streams_raise_only_frame_errors(data: bytes) -> None:
    dec = FrameDecoder(max_frame=1000)
    dec.feed(data)
    try:
        frames = list(dec.frames())
    except FrameError:
        return
    decoder = DnstapDecoder(ParseStats(), collections.Counter())
    for f in frames:
        if not f.control:
            decoder.decode(f.payload)  # never raises: bad protobuf is counted
