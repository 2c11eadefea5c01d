"""wire.boundary: the C helpers and the Python side name the same fields for everything that crosses between them.

The differential tests (test_batchloop.py, test_message.py) show that both
sides give the same results; these show why they can: each shape has one
field list per side, the lists agree, and a build whose lists disagree is
not used (the Python reference runs instead).
"""

from __future__ import annotations

import collections
import logging
import struct

import pytest

from tests.agent.wire.captured import PORT, packets, udp_dns_payloads
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import _fastwire, batchloop, boundary, layout, message
from yapdns.agent.wire.answers import ENTRY_FIELDS, FOLD, FOLD_FIELDS, NO_TTL, Fold, entries_of
from yapdns.agent.wire.batchloop import ScanState
from yapdns.agent.wire.packet import DLT_EN10MB
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor
from yapdns.core.model import Observation

PYTHON_SHAPES = {**batchloop.SCAN_SHAPES, "DnsResponse": message.RESPONSE_FIELDS, "RR": message.RR_FIELDS}


def test_every_shape_is_declared_alike_on_both_sides() -> None:
    assert set(_fastwire.SHAPES) == set(PYTHON_SHAPES)
    assert boundary.disagreements(PYTHON_SHAPES, _fastwire) == []
    assert message.RESPONSE_FIELDS == ("txid", "flags", "qname", "qtype", "qclass", "answers", "has_soa", "canonical")


def test_every_helper_is_bound_with_the_shapes_it_uses() -> None:
    bound = {name: getattr(module, name) for module, name in batchloop.c_helpers()}
    assert bound == {
        "_scan": _fastwire.scan, "_fold_c": _fastwire.fold, "_walk_c": _fastwire.walk, "_decode_c": _fastwire.decode
    }  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "changed"),
    [
        ("Layout", ("offsets", "end", "answer_ttls", "variants", "qend")),  # two fields swapped
        ("FoldNumbers", ("first", "last", "count", "ttl_min")),  # one dropped
        ("ScanState", frozenset({*ScanState.__slots__, "batch_size"})),  # one added
    ],
)
def test_a_build_that_disagrees_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, shape: str, changed: tuple[str, ...]
) -> None:
    monkeypatch.setitem(_fastwire.SHAPES, shape, changed)
    with caplog.at_level(logging.WARNING, logger="yapdns.agent.wire.boundary"):
        assert boundary.c_helper("scan", batchloop.SCAN_SHAPES) is None
    assert "C helper scan not used" in caplog.text and shape in caplog.text
    assert boundary.c_helper("decode", {"RR": message.RR_FIELDS}) is _fastwire.decode  # a helper not using it


def test_decode_builds_a_response_by_its_fields() -> None:
    wire = next(m for m in udp_dns_payloads() if m[2] & 0x80 and m[7] and _fastwire.decode(m) is not None)
    decoded = _fastwire.decode(wire)
    assert decoded is not None
    fields = dict(zip(message.RESPONSE_FIELDS, decoded, strict=True))
    reference = message.decode_response_python(wire)
    assert fields == {name: getattr(reference, name) for name in message.RESPONSE_FIELDS} | {"canonical": True}
    for rr, expected in zip(fields["answers"], reference.answers, strict=True):  # type: ignore[call-overload]
        assert dict(zip(message.RR_FIELDS, rr, strict=True)) == dict(zip(message.RR_FIELDS, expected, strict=True))


def test_walk_returns_the_fields_of_walk() -> None:
    wire = next(m for m in udp_dns_payloads() if m[2] & 0x80 and m[7])
    found = _fastwire.walk(wire)
    assert found is not None and layout.Walk._make(found) == layout.walk_python(wire)


def test_fold_writes_its_numbers_by_their_names() -> None:
    template = Observation(rrname="a.test", rrtype="A", rdata=("10.0.0.1",), time_first=0, time_last=0)
    (entry,) = entries_of([(template, (0,))])
    assert dict(zip(ENTRY_FIELDS, entry, strict=True)) == {"template_id": id(template), "template": template,
                                                          "indices": (0,)}  # fmt: skip
    fold = Fold()
    message_ttls = struct.pack("!II", 300, 2**31 + 5)  # the second TTL has its top bit set: it counts as 0
    for sec, at in ((1_700_000_005, 0), (1_700_000_001, 4), (1_700_000_009, 0)):
        _fastwire.fold(fold, (entry,), (at,), message_ttls, sec)
    (raw,) = fold.numbers.values()
    assert len(raw) == FOLD.size == 8 * len(FOLD_FIELDS)
    numbers = dict(zip(FOLD_FIELDS, FOLD.unpack(raw), strict=True))
    assert numbers == {"first": 1_700_000_001, "last": 1_700_000_009, "count": 3, "ttl_min": 0, "ttl_max": 300}
    assert fold.templates == {id(template): template}
    negative = Fold()
    _fastwire.fold(negative, ((id(template), template, ()),), (), b"", 7)
    assert FOLD.unpack(next(iter(negative.numbers.values())))[3:] == (NO_TTL, NO_TTL)


def _processor() -> DnsCaptureProcessor:
    return DnsCaptureProcessor(CaptureOptions(ports=[PORT]), ParseStats(), collections.Counter(), "pcap")


def _batch(frames: list[bytes]) -> tuple[bytes, bytes]:
    blob, meta = b"", b""
    for frame in frames:
        meta += struct.pack("=IIII", 1_700_000_000, 0, len(blob), len(frame))
        blob += frame
    return blob, meta


def test_scan_reads_the_state_by_name_and_sets_its_counts() -> None:
    frames = packets()
    proc = _processor()
    state = ScanState(proc, DLT_EN10MB)
    _fastwire.scan(state, *_batch(frames))
    assert state.packets > 0 and proc.stats.lines + state.packets == len(frames)  # the general path counts the rest
    assert (state.other_ports, state.unsolicited) == (0, 0)
    assert proc.answers.fold.numbers and proc.answers.layouts  # the processor's own objects were used
    udp_responses = [p for p in frames if p[12:14] == b"\x08\x00" and p[23] == 17 and p[44] & 0x80 and not p[44] & 2]
    again = ScanState(_processor(), DLT_EN10MB)
    _fastwire.scan(again, *_batch(udp_responses))
    assert again.unsolicited == again.packets == len(udp_responses) > 0  # no query seen: all unsolicited


@pytest.mark.parametrize(
    ("field", "value"),
    [("queries", []), ("port_bitmap", b"\x00" * 10), ("general", None), ("layouts", 5)],
)
def test_scan_refuses_a_state_of_the_wrong_types(field: str, value: object) -> None:
    state = ScanState(_processor(), DLT_EN10MB)
    setattr(state, field, value)
    frame = next(p for p in packets() if p[12:14] == b"\x08\x00")
    with pytest.raises(TypeError):
        _fastwire.scan(state, frame, struct.pack("=IIII", 1_700_000_000, 0, 0, len(frame)))


def test_scan_refuses_a_state_missing_a_field() -> None:
    class Partial:
        linktype = DLT_EN10MB

    with pytest.raises(AttributeError):
        _fastwire.scan(Partial(), b"", b"")

