"""Coverage-guided fuzzing of the wire decoders with atheris (not part of the test suite).

    pip install atheris
    python -m tests.agent.wire.fuzz_wire -atheris_runs=200000 [corpus_dir]

One input drives, by its first byte, either the DNS message decoder and
observation builder, the packet path (several link types) or the Frame
Streams + dnstap decoder. Anything but the documented, counted errors is a
crash. Seeds: the messages and packets of the committed BIND 9 capture.
"""

from __future__ import annotations

import collections
import sys

import atheris

with atheris.instrument_imports():
    from yapdns.agent.parsing import ParseStats
    from yapdns.agent.wire.dnstap import DnstapDecoder
    from yapdns.agent.wire.fstrm import FrameDecoder, FrameError
    from yapdns.agent.wire.message import DnsFormatError, decode_response, response_shape
    from yapdns.agent.wire.observations import ObservationBuilder
    from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor

_LINKTYPES = (1, 12, 0, 113, 276, 101)


def one_input(data: bytes) -> None:
    if not data:
        return
    mode, body = data[0] % 3, data[1:]
    stats, counters = ParseStats(), collections.Counter[str]()
    if mode == 0:
        response_shape(body)
        try:
            resp = decode_response(body)
        except DnsFormatError:
            return
        ObservationBuilder("fuzz", stats).observations(resp, 1_700_000_000)
    elif mode == 1:
        proc = DnsCaptureProcessor(CaptureOptions(keep_unsolicited=True), stats, counters, "fuzz")
        proc.packet(_LINKTYPES[data[0] // 3 % len(_LINKTYPES)], 1_700_000_000.0, body)
        proc.take()
    else:
        frames = FrameDecoder(max_frame=4096)
        frames.feed(body)
        decoder = DnstapDecoder(stats, counters)
        try:
            for frame in frames.frames():
                if not frame.control:
                    decoder.decode(frame.payload)
        except FrameError:
            return


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
