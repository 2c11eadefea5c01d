"""wire.message and wire.observations: the fast decoder against dnspython, and hostile input.

dnspython is the reference: every message BIND sent in the committed capture,
and messages dnspython builds from generated RRsets, must decode to the same
RRs (compared through the normalizer). Arbitrary and mutated bytes must only
ever raise ``DnsFormatError``.
"""

from __future__ import annotations

import re
import struct

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.agent.wire.captured import udp_dns_payloads
from tests.agent.wire.fuzz_fastwire import assert_canonical
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import message
from yapdns.agent.wire.message import DnsFormatError, decode_response, decode_response_python, response_shape
from yapdns.agent.wire.observations import ObservationBuilder, ResponseCache, rrset_ttl
from yapdns.core import rrtypes
from yapdns.core.errors import InvalidObservation
from yapdns.core.names import normalize_name
from yapdns.core.normalize import normalize_observation
from yapdns.core.rdata import normalize_rdata


def ours(wire: bytes) -> set[tuple[str, str, str]]:
    return {
        (owner, rrtypes.rrtype_text(t), normalize_rdata(t, rdata))
        for owner, t, _cls, _ttl, rdata in decode_response(wire).answers
    }


def reference(wire: bytes) -> set[tuple[str, str, str]]:
    msg = dns.message.from_wire(wire)
    out = set()
    for rrset in msg.answer:
        code = int(rrset.rdtype)
        name = normalize_name(rrset.name.to_text())
        out |= {(name, rrtypes.rrtype_text(code), normalize_rdata(code, rd.to_text())) for rd in rrset}
    return out


def rrset_ttls(wire: bytes) -> dict[tuple[str, int], int]:
    """The TTL of each RRset as the builder sees it (dnspython merges RRs into RRsets the same way)."""
    builder = ObservationBuilder("t", ParseStats())
    return {
        (o.rrname, rrtypes.rrtype_code(o.rrtype)): o.ttl or 0
        for o in builder.observations(decode_response(wire), 1_700_000_000)
        if o.rdata
    }


def test_every_bind_message_decodes_like_dnspython() -> None:
    messages = udp_dns_payloads()
    responses = [m for m in messages if m[2] & 0x80]
    assert len(responses) >= 10
    for wire in responses:
        assert ours(wire) == reference(wire)
        resp, ref = decode_response(wire), dns.message.from_wire(wire)
        assert (resp.txid, resp.rcode, resp.qtype) == (ref.id, ref.rcode(), ref.question[0].rdtype)
        assert resp.qname == normalize_name(ref.question[0].name.to_text())


_NAMES = st.from_regex(r"[a-zA-Z0-9_-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\.example\.", fullmatch=True)
_RDATA = st.one_of(
    st.tuples(st.just("A"), st.ip_addresses(v=4).map(str)),
    st.tuples(st.just("AAAA"), st.ip_addresses(v=6).map(str)),
    st.tuples(st.just("CNAME"), _NAMES),
    st.tuples(st.just("NS"), _NAMES),
    st.tuples(st.just("PTR"), _NAMES),
    st.tuples(st.just("MX"), st.builds(lambda p, n: f"{p} {n}", st.integers(0, 65535), _NAMES)),
    st.tuples(st.just("SRV"), st.builds(lambda a, b, c, n: f"{a} {b} {c} {n}", *[st.integers(0, 65535)] * 3, _NAMES)),
    st.tuples(st.just("TXT"), st.lists(st.binary(max_size=40), min_size=1, max_size=3).map(
        lambda parts: " ".join('"' + "".join(f"\\{b:03d}" for b in p) + '"' for p in parts))),
    st.tuples(st.just("SOA"), st.builds(lambda a, b: f"{a} {b} 1 2 3 4 5", _NAMES, _NAMES)),
    st.tuples(st.just("CAA"), st.just('0 issue "ca.example"')),
    st.tuples(st.just("NAPTR"), st.builds(lambda n: f'100 10 "U" "E2U+sip" "" {n}', _NAMES)),
)


@settings(max_examples=60, deadline=None)
@given(qname=_NAMES, records=st.lists(st.tuples(_NAMES, st.integers(0, 2**31 - 1), _RDATA), max_size=6))
def test_generated_messages_decode_like_dnspython(qname: str, records: list) -> None:  # type: ignore[type-arg]
    singletons = [(normalize_name(o), t) for o, _, (t, _) in records if t in ("SOA", "CNAME")]
    assume(len(singletons) == len(set(singletons)))  # dnspython keeps one RR of a singleton type per RRset
    msg = dns.message.make_response(dns.message.make_query(qname, "A"))
    for owner, ttl, (rrtype, text) in records:
        msg.answer.append(dns.rrset.from_text(owner, ttl, "IN", rrtype, text))
    wire = msg.to_wire()
    assert ours(wire) == reference(wire)
    ref = dns.message.from_wire(wire)
    assert rrset_ttls(wire) == {(normalize_name(r.name.to_text()), int(r.rdtype)): r.ttl for r in ref.answer}
    shape = response_shape(wire)
    assert shape is not None and len(shape[1]) == sum(len(r) for r in msg.answer)


def test_builder_output_is_what_the_normalizer_returns() -> None:
    builder = ObservationBuilder("pcap", ParseStats(), sensor_id="s1")
    for wire in udp_dns_payloads():
        if wire[2] & 0x80 and not wire[2] & 0x02:
            for obs in builder.observations(decode_response(wire), 1_700_000_000):
                assert normalize_observation(obs) == obs


def test_a_compression_loop_is_refused() -> None:
    header = struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0)
    question = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    rr_fixed = b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01"
    looping = header + question + b"\xc0" + bytes([12 + len(question)]) + rr_fixed  # the owner points at itself
    with pytest.raises(DnsFormatError) as err:
        decode_response(looping)
    assert err.value.code == "bad_pointer"
    response_shape(looping)  # the shape walk never follows pointers, so it cannot loop either


def test_an_authority_section_cut_short_is_still_usable() -> None:
    """Found by atheris: the shape walk gave up on the cut authority section while decoding succeeded."""
    # an answer with NS records in authority (a +norec query), cut inside its last authority record
    wire = next(m for m in udp_dns_payloads() if m[2] & 0x80 and m[7] and m[9] and not m[2] & 0x02)
    cut = wire[: wire.rindex(b"\x00\x02\x00\x01") + 6]  # the last NS type/class, then half its TTL
    assert response_shape(cut) is None
    entries, ttls = ResponseCache(ObservationBuilder("pcap", ParseStats())).get(cut) or ([], [])
    assert entries and [rrset_ttl(ttls, idx) for _, idx in entries] == [3600] * len(entries)


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"\x00" * 5, "short_message"),
        (struct.pack("!HHHHHH", 1, 0x8180, 2, 0, 0, 0), "bad_question"),
        (struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\x3fabc", "bad_name"),
        (struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\x80abc\x00\x00\x01\x00\x01", "bad_label"),
        (
            struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0)
            + b"\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x01\x00\x09\x01",
            "truncated_rr",
        ),
    ],
)
def test_malformed_messages_raise_a_format_error(wire: bytes, code: str) -> None:
    with pytest.raises(DnsFormatError) as err:
        decode_response(wire)
    assert err.value.code == code


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_escape(data: bytes) -> None:
    _decode_safely(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_messages_never_escape(data: st.DataObject) -> None:
    wire = bytearray(data.draw(st.sampled_from(udp_dns_payloads())))
    for _ in range(data.draw(st.integers(1, 8))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(wire)))
    _decode_safely(bytes(wire[:cut]))
    _decode_safely(bytes(wire))


def _decode_safely(data: bytes) -> None:
    response_shape(data)
    found = ResponseCache(ObservationBuilder("pcap", ParseStats())).get(data)
    if found is not None:
        [rrset_ttl(found[1], indices) for _, indices in found[0]]
    try:
        resp = decode_response(data)
    except DnsFormatError:
        return
    stats = ParseStats()
    try:
        ObservationBuilder("pcap", stats).observations(resp, 1_700_000_000)
    except InvalidObservation:  # pragma: no cover - the builder counts these itself
        raise AssertionError("the builder let an invalid observation escape") from None
    assert dns.rdataclass.IN  # dnspython stays importable: no global state broken


def _ttl_pointer_response(label: bytes) -> bytes:
    """A response whose second A record's owner points into the first record's TTL, which spells ``label``."""
    first_ttl = 12 + 12 + 2 + 4  # header, question, owner pointer, type and class
    question = b"\x01a\x04test\x00\x00\x01\x00\x01"
    one = b"\xc0\x0c\x00\x01\x00\x01" + b"\x01" + label + b"\x00\x00" + b"\x00\x04\x0a\x00\x00\x01"
    two = struct.pack("!H", 0xC000 | first_ttl) + b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x02"
    return struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 2, 0, 0) + question + one + two


def test_response_cache_never_serves_names_read_from_a_ttl() -> None:
    # The two responses differ only in TTL bytes, so their TTL-blind shapes are equal; the owner read through
    # the pointer differs, and each must keep its own.
    cache = ResponseCache(ObservationBuilder("dnstap", ParseStats()))
    for label in (b"b", b"c", b"b"):
        found = cache.get(_ttl_pointer_response(label))
        assert found is not None
        assert {entry.rrname for entry, _ in found[0]} == {"a.test", label.decode()}


def _fields(resp: message.DnsResponse) -> tuple[object, ...]:
    return (resp.txid, resp.flags, resp.qname, resp.qtype, resp.qclass, resp.answers, resp.has_soa)


_C_TYPES = frozenset({rrtypes.A, rrtypes.AAAA, rrtypes.CNAME, rrtypes.NS, rrtypes.PTR, rrtypes.DNAME, rrtypes.MX})
_C_NAME_AT = {rrtypes.CNAME: 0, rrtypes.NS: 0, rrtypes.PTR: 0, rrtypes.DNAME: 0, rrtypes.MX: 2}
_PLAIN_LABEL = re.compile(rb"[A-Za-z0-9_-]+")


def _plain_name_end(wire: bytes, off: int) -> int:
    """The offset after the name at ``off`` when all its labels are plain, else -1."""
    name, end = message.read_name_wire(wire, off)
    i = 0
    while i < len(name):
        if not _PLAIN_LABEL.fullmatch(name[i + 1 : i + 1 + name[i]]):
            return -1
        i += 1 + name[i]
    return end


def c_decodes(wire: bytes) -> bool:
    """Whether the C decoder must take ``wire``, by its documented case: the Python decoder decodes it, every name
    it reads (question, owners, names in rdata) has plain labels (``[A-Za-z0-9_-]``), and every answer is A, AAAA,
    CNAME, NS, PTR, DNAME or MX. Everything else is left to the Python decoder."""
    try:
        resp = decode_response_python(wire)
    except DnsFormatError:
        return False
    if any(rr[1] not in _C_TYPES for rr in resp.answers):
        return False
    off = _plain_name_end(wire, 12)
    if off < 0:
        return False
    off += 4
    for _ in resp.answers:
        off = _plain_name_end(wire, off)
        if off < 0:
            return False
        rrtype, _, _, rdlen = struct.unpack_from("!HHIH", wire, off)
        name_at = _C_NAME_AT.get(rrtype)
        if name_at is not None and _plain_name_end(wire, off + 10 + name_at) < 0:
            return False
        off += 10 + rdlen
    return True


def _c_agrees(wire: bytes) -> bool:
    """The C decoder gives what the Python decoder gives, or None (Python decides); True when C decoded it.

    It declines exactly what ``c_decodes`` leaves to Python: a C decoder that declined more would fail here.
    """
    assert message._decode_c is not None, "the C helpers are built by scripts/test"
    fast = message._decode_c(wire)
    assert (fast is not None) == c_decodes(wire), wire.hex()
    if fast is None:
        return False
    assert fast == (*_fields(decode_response_python(wire)), True)  # True: canonical (DnsResponse.canonical)
    assert_canonical(fast)  # the promise behind DnsResponse.canonical: the normalizer keeps every name and rdata
    assert decode_response(wire).canonical
    return True


def test_c_decoder_equals_the_python_decoder_on_every_bind_message() -> None:
    responses = [m for m in udp_dns_payloads() if m[2] & 0x80]
    assert sum(_c_agrees(wire) for wire in responses) >= len(responses) // 2  # most take the C path


@settings(max_examples=150, deadline=None)
@given(qname=_NAMES, records=st.lists(st.tuples(_NAMES, st.integers(0, 2**32 - 1), _RDATA), max_size=6))
def test_c_decoder_equals_the_python_decoder_on_generated_messages(qname: str, records: list) -> None:  # type: ignore[type-arg]
    msg = dns.message.make_response(dns.message.make_query(qname, "A"))
    for owner, ttl, (rrtype, text) in records:
        msg.answer.append(dns.rrset.from_text(owner, ttl, "IN", rrtype, text))
    plain_types = all(rrtype in ("A", "AAAA", "CNAME", "NS", "PTR", "MX") for _, _, (rrtype, _) in records)
    assert _c_agrees(msg.to_wire()) == plain_types  # every generated name is plain


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_c_decoder_equals_the_python_decoder_on_mutated_messages(data: st.DataObject) -> None:
    wire = bytearray(data.draw(st.sampled_from(udp_dns_payloads())))
    for _ in range(data.draw(st.integers(0, 6))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    _c_agrees(bytes(wire[: data.draw(st.integers(0, len(wire)))]))  # asserts C declines only what c_decodes says
    _c_agrees(bytes(wire))
