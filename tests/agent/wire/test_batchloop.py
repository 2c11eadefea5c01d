"""The pcap fast path (``batchloop`` + ``answers``) against an independent decoding of every response.

Every test runs twice: with the C helpers (``agent/wire/_fastwire.c``) and with
the Python code they replace, which is the reference; more tests check that
both give the same observations, counters, query table and caches.

Responses of the committed BIND 9 capture are replayed with new ids, counted
down TTLs and rotated RRsets, so that most of them hit a cached layout and
variant; the folded result must equal what decoding each response on its
own gives. Hand-made hostile responses check that the layout cache refuses
what it cannot cache safely (compression pointers into the header or a TTL).
"""

from __future__ import annotations

import collections
import struct
from collections.abc import Iterable

import dns.message
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.agent.wire.captured import PORT, packets
from yapdns.agent.inputs.pcap import PcapFileInput, PcapFileOptions
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import batchloop
from yapdns.agent.wire.batchloop import process_batch
from yapdns.agent.wire.layout import walk, walk_python
from yapdns.agent.wire.message import decode_response
from yapdns.agent.wire.observations import ObservationBuilder
from yapdns.agent.wire.packet import DLT_EN10MB
from yapdns.agent.wire.session import CaptureOptions, DnsCaptureProcessor
from yapdns.core.model import Observation

T0 = 1_700_000_000
Key = tuple[str, str, tuple[str, ...], str | None]
Folded = dict[Key, tuple[int, int, int, int | None, int | None]]  # first, last, count, ttl min, ttl max
C_HELPERS = batchloop.c_helpers()


def _python_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in C_HELPERS:
        monkeypatch.setattr(module, name, None)


@pytest.fixture(autouse=True, params=["c", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the C helpers, then with the Python reference alone."""
    if request.param == "python":
        _python_only(monkeypatch)
    return str(request.param)


def test_the_c_helpers_are_built(implementation: str) -> None:
    # scripts/test installs a C compiler and the Python headers, so the optional extension must be there
    assert batchloop.implementation() == implementation
    assert len(C_HELPERS) == 4
    assert all(getattr(module, name) is not None for module, name in C_HELPERS) == (implementation == "c")
    assert PcapFileInput("p", PcapFileOptions(paths=[])).stats_dict()["batch_loop"] == implementation  # --stats


def _processor(**options: object) -> DnsCaptureProcessor:
    opts = CaptureOptions(ports=[PORT], **options)  # type: ignore[arg-type]
    return DnsCaptureProcessor(opts, ParseStats(), collections.Counter(), "pcap")


def _dns_offset(frame: bytes) -> int:
    return 14 + (frame[14] & 15) * 4 + 8 if frame[12] == 8 else 62


def _with_dns(frame: bytes, wire: bytes) -> bytes:
    """``frame`` (Ethernet, IPv4 or IPv6, UDP) carrying ``wire`` instead, lengths fixed (checksums are not read)."""
    start = _dns_offset(frame)
    head = bytearray(frame[:start])
    if frame[12] == 8:
        struct.pack_into("!H", head, 16, start - 14 + len(wire))
    else:
        struct.pack_into("!H", head, 18, 8 + len(wire))
    struct.pack_into("!H", head, start - 4, 8 + len(wire))
    return bytes(head) + wire


def _udp_frames() -> list[bytes]:
    return [p for p in packets() if (p[12] == 8 and p[23] == 17) or (p[12] == 0x86 and p[20] == 17)]


def _replayed(rounds: int) -> list[tuple[float, bytes]]:
    """The capture's UDP exchanges ``rounds`` times: new ids, TTLs counted down, RRsets rotated on odd rounds."""
    out = []
    for r in range(rounds):
        for i, frame in enumerate(_udp_frames()):
            msg = dns.message.from_wire(frame[_dns_offset(frame) :])
            msg.id = (msg.id + 7919 * r) & 0xFFFF
            for rrset in [*msg.answer, *msg.authority]:
                rrset.ttl = max(0, rrset.ttl - 13 * r)
                if r % 2 and len(rrset) > 1:
                    items = list(rrset)
                    rotated = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
                    for rd in items[1:] + items[:1]:
                        rotated.add(rd, rrset.ttl)
                    rrset.clear()
                    rrset.update(rotated)
            out.append((T0 + 5 * r + i / 1000, _with_dns(frame, msg.to_wire())))
    return out


def _batch(proc: DnsCaptureProcessor, frames: list[tuple[float, bytes]]) -> list[Observation]:
    blob, meta = b"", b""
    for when, frame in frames:
        meta += struct.pack("=IIII", int(when), round(when % 1 * 1e6), len(blob), len(frame))
        blob += frame
    process_batch(proc, DLT_EN10MB, blob, meta)
    return proc.take()


def _folded(observations: Iterable[Observation]) -> Folded:
    out: Folded = {}
    for o in observations:
        key = (o.rrname, o.rrtype, o.rdata, o.rcode)
        first, last, count, low, high = out.get(key, (o.time_first, o.time_last, 0, o.ttl, o.ttl))
        if o.ttl is not None and low is not None and high is not None:
            low, high = min(low, o.ttl), max(high, o.ttl)
        out[key] = (min(first, o.time_first), max(last, o.time_last), count + o.count, low, high)
    return out


def _reference(frames: list[tuple[float, bytes]]) -> Folded:
    """Every response decoded on its own (all of them answer a query of the replay)."""
    builder = ObservationBuilder("pcap", ParseStats())
    out = []
    for when, frame in frames:
        wire = frame[_dns_offset(frame) :]
        if wire[2] & 0x80 and not wire[2] & 0x02:
            out += builder.observations(decode_response(wire), int(when))
    return _folded(out)


def test_fast_path_folds_what_decoding_every_response_gives() -> None:
    frames = _replayed(6)
    proc = _processor()
    got = _batch(proc, frames)
    assert _folded(got) == _reference(frames)
    assert len(proc.answers.layouts) >= 5
    assert sum(len(layout.variants) for layout in proc.answers.layouts.values()) > len(proc.answers.layouts)
    assert any(o.count > 1 for o in got)
    general = _processor()
    for when, frame in frames:
        general.packet(DLT_EN10MB, when, frame)
    assert _folded(general.take()) == _folded(got)
    assert general.stats.lines == proc.stats.lines == len(frames)


def test_an_rrset_seen_with_several_ttls_drains_as_the_aggregator_would() -> None:
    frames = _replayed(3)
    got = _batch(_processor(), frames)
    split = collections.Counter((o.rrname, o.rrtype, o.rdata) for o in got)
    twice = [key for key, n in split.items() if n == 2]
    assert twice  # the TTLs went down between rounds
    for key in twice:
        big, small = sorted((o for o in got if (o.rrname, o.rrtype, o.rdata) == key), key=lambda o: -(o.ttl or 0))
        assert small.count == 1 and small.time_first == small.time_last == big.time_first
        assert big.ttl is not None and small.ttl is not None and big.ttl > small.ttl


def _response(answers: bytes, ancount: int, txid: int = 0x1234) -> bytes:
    question = b"\x01a\x04test\x00\x00\x01\x00\x01"
    return struct.pack("!HHHHHH", txid, 0x8180, 1, ancount, 0, 0) + question + answers


def _query(txid: int = 0x1234) -> bytes:
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + b"\x01a\x04test\x00\x00\x01\x00\x01"


def _a(owner: bytes, ttl: bytes, address: bytes) -> bytes:
    return owner + b"\x00\x01\x00\x01" + ttl + b"\x00\x04" + address


def _exchange(query: bytes, response: bytes, when: float) -> list[tuple[float, bytes]]:
    template = next(p for p in _udp_frames() if p[12] == 8 and not p[_dns_offset(p) + 2] & 0x80)
    back = bytearray(template)
    back[26:30], back[30:34] = template[30:34], template[26:30]
    back[34:36], back[36:38] = template[36:38], template[34:36]
    return [(when, _with_dns(template, query)), (when, _with_dns(bytes(back), response))]


def test_a_pointer_into_a_ttl_is_not_cached_by_shape() -> None:
    # the second RR's owner points into the first RR's TTL: there, TTL bytes are a name ("b", then "c")
    first_ttl = 12 + 12 + 2 + 4  # header, question, owner pointer, type and class
    frames = []
    for i, label in enumerate((b"b", b"c", b"b")):
        answers = _a(b"\xc0\x0c", b"\x01" + label + b"\x00\x00", b"\x0a\x00\x00\x01")
        answers += _a(struct.pack("!H", 0xC000 | first_ttl), b"\x00\x00\x00\x3c", b"\x0a\x00\x00\x02")
        response = _response(answers, 2)
        assert walk(response) is None
        frames += _exchange(_query(), response, T0 + i)
    owners = {o.rrname for o in _batch(_processor(), frames)}
    assert owners == {"a.test", "b", "c"}


def test_a_pointer_into_the_header_is_not_cached() -> None:
    answers = _a(b"\xc0\x02", b"\x00\x00\x00\x3c", b"\x0a\x00\x00\x01")
    assert walk(_response(answers, 1)) is None
    plain = _a(b"\xc0\x0c", b"\x00\x00\x00\x3c", b"\x0a\x00\x00\x01")
    found = walk(_response(plain, 1))
    assert found is not None and found.answer_ttls == (12 + 12 + 6,)


@pytest.mark.parametrize("cut", [1, 5, 11, 15])
def test_a_response_cut_short_is_decoded_or_counted_not_cached(cut: int) -> None:
    answers = _a(b"\xc0\x0c", b"\x00\x00\x00\x3c", b"\x0a\x00\x00\x01")
    response = _response(answers, 1)[:-cut]
    assert walk(response) is None
    proc = _processor()
    _batch(proc, _exchange(_query(), response, T0))
    assert not proc.answers.layouts and proc.stats.error_count == 1


def _nxdomain(soa_names: bytes, txid: int) -> bytes:
    """A negative answer to the query of ``_query``: an SOA in authority whose names are ``soa_names``."""
    soa = soa_names + struct.pack("!IIIII", 1, 7200, 3600, 1209600, 3600)
    authority = b"\xc0\x0c\x00\x06\x00\x01\x00\x00\x0e\x10" + struct.pack("!H", len(soa)) + soa
    return struct.pack("!HHHHHH", txid, 0x8183, 1, 0, 1, 0) + b"\x01a\x04test\x00\x00\x01\x00\x01" + authority


def test_a_layout_is_learnt_again_when_its_sections_end_elsewhere() -> None:
    # same header and question, same TTL offsets, a longer SOA: the sections end elsewhere, so the variant of
    # the second response must be keyed by its own layout (found by test_c_and_python_loops_agree_on_mutated_packets)
    short, longer = b"\x02ns\xc0\x0e\x02hm\xc0\x0e", b"\x03ns1\xc0\x0e\nhostmaster\xc0\x0e"
    frames = []
    for txid, names in enumerate((short, longer, longer), start=1):
        frames += _exchange(_query(txid), _nxdomain(names, txid), T0 + txid)
    proc = _processor()
    got = _batch(proc, frames)
    (layout,) = proc.answers.layouts.values()
    assert layout.end == len(_nxdomain(longer, 0))
    assert all(len(key) == layout.end - layout.qend for key in layout.variants)
    assert sum(o.count for o in got) == 3 and {o.rcode for o in got} == {"NXDOMAIN"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 1)), min_size=1, max_size=12))
def test_ttls_and_rotations_fold_exactly(sightings: list[tuple[int, int]]) -> None:
    frames = []
    expected: dict[str, list[int]] = collections.defaultdict(list)
    for i, (ttl, rotate) in enumerate(sightings):
        one = _a(b"\xc0\x0c", struct.pack("!I", ttl), b"\x0a\x00\x00\x01")
        two = _a(b"\xc0\x0c", struct.pack("!I", (ttl + 1) % 2**32), b"\x0a\x00\x00\x02")
        response = _response(two + one if rotate else one + two, 2, txid=i)
        frames += _exchange(_query(txid=i), response, T0 + i)
        expected["a.test"].append(min(ttl if ttl < 2**31 else 0, (ttl + 1) % 2**32 if (ttl + 1) % 2**32 < 2**31 else 0))
    folded = _folded(_batch(_processor(), frames))
    ((_, _, _, rcode), (first, last, count, low, high)), *rest = folded.items()
    assert not rest and rcode is None
    assert (first, last, count) == (T0, T0 + len(sightings) - 1, len(sightings))
    assert (low, high) == (min(expected["a.test"]), max(expected["a.test"]))


def _mutated(data: st.DataObject, frames: list[tuple[float, bytes]], flips: int) -> list[tuple[float, bytes]]:
    """``frames`` with up to ``flips`` bytes changed in each, some of them cut short."""
    out = []
    for when, frame in frames:
        wire = bytearray(frame)
        for _ in range(data.draw(st.integers(0, flips))):
            wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
        if data.draw(st.booleans()):
            wire = wire[: data.draw(st.integers(0, len(wire)))]
        out.append((when, bytes(wire)))
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fast_and_general_paths_agree_on_mutated_packets(data: st.DataObject) -> None:
    mutated = _mutated(data, _replayed(2), flips=2)
    fast, general = _processor(), _processor()
    got = _batch(fast, mutated)
    for when, frame in mutated:
        general.packet(DLT_EN10MB, when, frame)
    assert _folded(got) == _folded(general.take())
    assert fast.stats.lines == general.stats.lines == len(mutated)
    assert fast.stats.errors == general.stats.errors
    assert fast.counters["unsolicited_responses"] == general.counters["unsolicited_responses"]


def _snapshot(proc: DnsCaptureProcessor, observations: list[Observation]) -> dict[str, object]:
    """Everything a batch leaves behind, for comparing the C and Python loops."""
    layouts = {key: (layout.end, layout.offsets, layout.answer_ttls, sorted(layout.variants))
               for key, layout in proc.answers.layouts.items()}  # fmt: skip
    return {
        "observations": sorted(observations, key=repr),
        "queries": list(proc.queries.items()),  # order matters: it is the expiry order
        "layouts": layouts,
        "lines": proc.stats.lines,
        "errors": dict(proc.stats.errors),
        "counters": dict(proc.counters),
    }


def _both(monkeypatch: pytest.MonkeyPatch, frames: list[tuple[float, bytes]], **options: object) -> list[object]:
    """The snapshot of the same frames through the C loop and through the Python loop."""
    out = []
    for python in (False, True):
        with monkeypatch.context() as patch:
            if python:
                _python_only(patch)
            else:
                assert batchloop.implementation() == "c"
            proc = _processor(**options)
            out.append(_snapshot(proc, _batch(proc, frames)))
    return out


@pytest.mark.parametrize("implementation", ["c"], indirect=True)
@pytest.mark.parametrize(
    "options",
    [{}, {"keep_unsolicited": True}, {"server_in_sensor_id": True, "sensor_id": "s1"}, {"max_pending_queries": 3}],
)
def test_c_and_python_loops_leave_the_same_state(
    implementation: str, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    frames = _replayed(4)
    unsolicited = [(when, frame) for when, frame in frames if frame[_dns_offset(frame) + 2] & 0x80][:5]
    c_state, python_state = _both(monkeypatch, frames + unsolicited, **options)
    assert c_state == python_state
    assert c_state["observations"]  # type: ignore[index]


@pytest.mark.parametrize("implementation", ["c"], indirect=True)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_c_and_python_loops_agree_on_mutated_packets(implementation: str, data: st.DataObject) -> None:
    mutated = _mutated(data, _replayed(2), flips=3)
    with pytest.MonkeyPatch.context() as monkeypatch:
        c_state, python_state = _both(monkeypatch, mutated)
    assert c_state == python_state


def _responses() -> list[bytes]:
    return [frame[_dns_offset(frame) :] for frame in _udp_frames() if frame[_dns_offset(frame) + 2] & 0x80]


@pytest.mark.parametrize("implementation", ["c"], indirect=True)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_c_walk_equals_the_python_walk(implementation: str, data: st.DataObject) -> None:
    wire = bytearray(data.draw(st.sampled_from(_responses())))
    for _ in range(data.draw(st.integers(0, 4))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    wire = wire[: data.draw(st.integers(0, len(wire)))] + data.draw(st.binary(max_size=8))
    reference, fast = walk_python(bytes(wire)), walk(bytes(wire))
    if reference is None:
        assert fast is None
    else:
        assert fast is not None
        fields = ("qend", "end", "offsets", "answer_ttls")
        assert [getattr(fast, f) for f in fields] == [getattr(reference, f) for f in fields]


@pytest.mark.parametrize("implementation", ["c"], indirect=True)
def test_c_walk_of_every_real_response(implementation: str) -> None:
    walked = 0
    for wire in _responses():
        reference = walk_python(wire)
        fast = walk(wire)
        assert (fast is None) == (reference is None)
        if fast is not None and reference is not None:
            walked += 1
            assert (fast.qend, fast.end, fast.offsets, fast.answer_ttls) == (
                reference.qend, reference.end, reference.offsets, reference.answer_ttls
            )  # fmt: skip
    assert walked >= 5
