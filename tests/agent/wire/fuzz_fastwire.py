"""Mutated real packets and messages straight into the C helpers (not part of the test suite).

    scripts/asan-fastwire [ITERATIONS] [SEED]     # builds them with AddressSanitizer + UBSan, then runs this
    scripts/fuzz-fastwire [libFuzzer options]     # coverage-guided (decode, walk): fuzz/fastwire_libfuzzer.c

``_fastwire.decode`` and ``_fastwire.walk`` get every input; every fifth
input is also a batch of mutated, cut captured frames through
``batchloop.process_batch`` (the C ``scan``, with ``fold`` and the Python
callbacks), with random options. A memory error aborts with the sanitizer's
report. What ``decode`` returns is checked to keep the promise behind
``DnsResponse.canonical`` (the normalizer keeps every name and rdata); the
differential tests in test_batchloop.py and test_message.py check the
results themselves.
"""

from __future__ import annotations

import collections
import pathlib
import random
import struct
import sys

from tests.agent.wire.captured import PORT, packets, udp_dns_payloads
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import _fastwire
from yapdns.agent.wire.batchloop import implementation, process_batch
from yapdns.agent.wire.message import DnsResponse
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor
from yapdns.core.names import normalize_name
from yapdns.core.rdata import normalize_rdata


def mutated(rng: random.Random, wire: bytes, flips: int) -> bytes:
    out = bytearray(wire)
    for _ in range(rng.randint(0, flips)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out[: rng.randint(0, len(out))]) + rng.randbytes(rng.randint(0, 4))


def assert_canonical(decoded: tuple | None) -> None:  # type: ignore[type-arg]
    """``decode``'s names and rdata are their own normalization (``DnsResponse.canonical``)."""
    if decoded is None:
        return
    response = DnsResponse(*decoded)
    assert response.canonical
    assert normalize_name(response.qname) == response.qname, response.qname
    for owner, rrtype, _class, _ttl, rdata in response.answers:
        assert normalize_name(owner) == owner, owner
        assert normalize_rdata(rrtype, rdata) == rdata, (rrtype, rdata)


def batch(rng: random.Random, frames: list[bytes]) -> None:
    options = CaptureOptions(
        ports=[PORT], keep_unsolicited=rng.random() < 0.5, max_pending_queries=rng.choice([2, 200_000])
    )
    proc = DnsCaptureProcessor(options, ParseStats(), collections.Counter(), "pcap")
    blob, meta = b"", b""
    for _ in range(rng.randint(1, 12)):
        frame = mutated(rng, rng.choice(frames), 6)
        meta += struct.pack("=IIII", 1_700_000_000 + rng.randrange(3), 0, len(blob), len(frame))
        blob += frame
    process_batch(proc, 1, blob, meta)
    proc.take()


def main(iterations: int, seed: int) -> None:
    assert implementation() == "c", "the C helpers are not built"
    rng = random.Random(seed)
    messages, frames = udp_dns_payloads(), packets()
    for i in range(iterations):
        wire = mutated(rng, rng.choice(messages), 8)
        assert_canonical(_fastwire.decode(wire))
        _fastwire.walk(wire)
        if i % 5 == 0:
            batch(rng, frames)
    print(f"{iterations} messages and {iterations // 5} batches through the C helpers, seed {seed}: no fault")


def write_seeds(folder: str) -> None:
    """The captured DNS messages as seeds for the libFuzzer harness (scripts/fuzz-fastwire)."""
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for i, wire in enumerate(udp_dns_payloads()):
        (out / f"captured-{i}").write_bytes(wire)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--seeds":
        write_seeds(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
