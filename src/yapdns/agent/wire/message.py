"""Fast, defensive decoding of DNS wire messages for the wire sensors (dnstap, pcap).

A sensor sees tens of thousands of messages a second and needs from each only
the header, the question and the answer section, so this module reads those
and nothing else (dnspython's ``Message.from_wire`` builds a full object tree
and costs ~50x more per message; see docs/performance.md).

Guarantees:

* every read is bounds-checked; a malformed message raises ``DnsFormatError``
  (with a stable ``code``), never ``IndexError`` or another surprise;
* compression pointers must point strictly backwards, each jump further back
  than the last, so a pointer loop cannot spin (dnspython's rule too);
* names come out canonical (``core.names``), through a bounded cache keyed by
  the uncompressed, lowercased wire name;
* rdata comes out in presentation form: A, AAAA, name-only types, MX, SRV,
  TXT and SOA are printed here; every other type goes through dnspython's
  rdata ``from_wire``. ``core.normalize`` then makes it canonical; tests check
  both paths against dnspython on real messages.
"""

from __future__ import annotations

import inspect
import re
import socket
import struct
from collections.abc import Callable

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from yapdns.agent.wire.boundary import c_helper
from yapdns.core import rrtypes as t
from yapdns.core.errors import InvalidName
from yapdns.core.names import normalize_name

HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_H = struct.Struct("!H")
_QTYPE_QCLASS = struct.Struct("!HH")
_HH = struct.Struct("!HH")
_TTL = struct.Struct("!I")
_SRV = struct.Struct("!HHH")
_SOA_INTS = struct.Struct("!IIIII")
_SIMPLE_LABEL = re.compile(rb"[a-z0-9_-]{1,63}")
_PLAIN_TXT = re.compile(rb"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # printable ASCII but '"' and '\\'

_NAME_CACHE_MAX = 200_000
_NAME_TYPES = frozenset({t.CNAME, t.NS, t.PTR, t.DNAME})

QR = 0x8000
TC = 0x0200
OPCODE_MASK = 0x7800
CLASS_IN = 1


class DnsFormatError(ValueError):
    """The DNS message is malformed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


RR_FIELDS = ("owner", "rrtype", "rrclass", "ttl", "rdata")
RR = tuple[str, int, int, int, str]
"""One decoded answer record (``RR_FIELDS``): names canonical, rdata presentation form."""


class DnsResponse:
    """What a sensor keeps of a response: header, question, answers, SOA-in-authority.

    ``canonical`` says that the names and rdata are canonical by construction (``normalize_name`` and
    ``normalize_rdata`` would keep them as they are): the C decoder's output is, and its tests check it.
    """

    __slots__ = ("answers", "canonical", "flags", "has_soa", "qclass", "qname", "qtype", "rcode", "txid")

    def __init__(
        self,
        txid: int,
        flags: int,
        qname: str,
        qtype: int,
        qclass: int,
        answers: list[RR],
        has_soa: bool,
        canonical: bool = False,
    ) -> None:
        self.canonical = canonical
        self.txid = txid
        self.flags = flags
        self.rcode = flags & 0xF
        self.qname = qname
        self.qtype = qtype
        self.qclass = qclass
        self.answers = answers
        self.has_soa = has_soa


RESPONSE_FIELDS = tuple(inspect.signature(DnsResponse).parameters)
"""The arguments of ``DnsResponse``, in order: the fields of the C decoder's tuple (``boundary``)."""
# the C decoder when it is built and agrees on these shapes, else None (decode_response_python runs alone)
_decode_c: Callable[[bytes], tuple[int, int, str, int, int, list[RR], bool, bool] | None] | None = c_helper(
    "decode", {"DnsResponse": RESPONSE_FIELDS, "RR": RR_FIELDS}
)

_name_cache: dict[bytes, str] = {}


def read_name_wire(buf: bytes, off: int) -> tuple[bytes, int]:
    """The uncompressed wire form of the name at ``off`` (without the root byte) and the offset after it."""
    parts: list[bytes] = []
    end = -1
    limit = off
    size = 0
    n = len(buf)
    while True:
        if off >= n:
            raise DnsFormatError("truncated_name", "name runs past the end of the message")
        length = buf[off]
        if length == 0:
            return b"".join(parts), (off + 1 if end < 0 else end)
        if length < 64:
            nxt = off + 1 + length
            size += length + 1
            if nxt > n or size > 254:
                raise DnsFormatError("bad_name", "label runs past the end or name longer than 255")
            parts.append(buf[off:nxt])
            off = nxt
        elif length >= 0xC0:
            if off + 1 >= n:
                raise DnsFormatError("truncated_name", "compression pointer cut short")
            ptr = ((length & 0x3F) << 8) | buf[off + 1]
            if ptr >= limit:
                raise DnsFormatError("bad_pointer", "compression pointer does not point backwards")
            if end < 0:
                end = off + 2
            limit = off = ptr
        else:
            raise DnsFormatError("bad_label", f"unsupported label type {length:#x}")


def name_text(wire: bytes) -> str:
    """Canonical text of an uncompressed wire name (as returned by ``read_name_wire``)."""
    key = wire.lower()
    text = _name_cache.get(key)
    if text is None:
        text = _name_text_uncached(key)
        if len(_name_cache) >= _NAME_CACHE_MAX:
            _name_cache.clear()
        _name_cache[key] = text
    return text


def _name_text_uncached(wire: bytes) -> str:
    labels: list[bytes] = []
    i = 0
    while i < len(wire):
        length = wire[i]
        labels.append(wire[i + 1 : i + 1 + length])
        i += 1 + length
    if not labels:
        return "."
    if all(_SIMPLE_LABEL.fullmatch(label) for label in labels):
        return b".".join(labels).decode("ascii")
    try:
        return normalize_name(dns.name.Name([*labels, b""]).to_text())
    except (InvalidName, dns.exception.DNSException) as exc:
        raise DnsFormatError("bad_name", f"name cannot be represented: {exc}") from None


def read_name(buf: bytes, off: int) -> tuple[str, int]:
    """Canonical text of the name at ``off`` and the offset after it."""
    wire, end = read_name_wire(buf, off)
    return name_text(wire), end


def question_end(buf: bytes) -> int:
    """Offset just after the (single) question; raises for a malformed question."""
    _, end = read_name_wire(buf, 12)
    end += 4
    if end > len(buf):
        raise DnsFormatError("truncated_question", "question runs past the end of the message")
    return end


def decode_response(buf: bytes) -> DnsResponse:
    """Decode the header, the question and the answer section of a response.

    Raises ``DnsFormatError``; the caller checks QR, opcode and TC itself. The common case (names of plain
    labels; A, AAAA, name-only and MX rdata) is decoded in C when it is built (``_fastwire.decode``), with the
    same result; everything else, and every malformed message, by ``decode_response_python``.
    """
    if _decode_c is not None:
        fast = _decode_c(buf)
        if fast is not None:
            return DnsResponse(*fast)  # RESPONSE_FIELDS, canonical True
    return decode_response_python(buf)


def decode_response_python(buf: bytes) -> DnsResponse:
    """``decode_response`` in Python: every message, and the reference for the C decoder."""
    if len(buf) < 12:
        raise DnsFormatError("short_message", "message shorter than a DNS header")
    txid, flags, qdcount, ancount, nscount, _ = HEADER.unpack_from(buf, 0)
    if qdcount != 1:
        raise DnsFormatError("bad_question", f"{qdcount} questions")
    qname, off = read_name(buf, 12)
    if off + 4 > len(buf):
        raise DnsFormatError("truncated_question", "question runs past the end of the message")
    qtype, qclass = _QTYPE_QCLASS.unpack_from(buf, off)
    answers, off = _read_answers(buf, off + 4, ancount, {12: qname})
    has_soa = nscount > 0 and _authority_has_soa(buf, off, nscount)
    return DnsResponse(txid, flags, qname, qtype, qclass, answers, has_soa)


def _read_answers(buf: bytes, off: int, count: int, names: dict[int, str]) -> tuple[list[RR], int]:
    """Read ``count`` RRs; ``names`` maps offsets of names already decoded in this message to their text."""
    answers: list[RR] = []
    n = len(buf)
    for _ in range(count):
        owner = None
        if off + 1 < n and buf[off] >= 0xC0:  # the usual owner: a bare pointer to a name seen before
            owner = names.get(((buf[off] & 0x3F) << 8) | buf[off + 1])
        if owner is None:
            owner, off = read_name(buf, off)
        else:
            off += 2
        if off + 10 > n:
            raise DnsFormatError("truncated_rr", "answer record cut short")
        rrtype, rrclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
        off += 10
        end = off + rdlen
        if end > n:
            raise DnsFormatError("truncated_rr", "rdata runs past the end of the message")
        rdata = rdata_text(buf, off, rdlen, rrtype, rrclass)
        if rrtype in _NAME_TYPES:
            names[off] = rdata
        answers.append((owner, rrtype, rrclass, ttl, rdata))
        off = end
    return answers, off


def _authority_has_soa(buf: bytes, off: int, count: int) -> bool:
    """True when the authority section holds an SOA (a negative answer's proof)."""
    n = len(buf)
    for _ in range(count):
        _, off = read_name_wire(buf, off)
        if off + 10 > n:
            return False
        rrtype, _, _, rdlen = _RR_FIXED.unpack_from(buf, off)
        if rrtype == t.SOA:
            return True
        off += 10 + rdlen
    return False


def rdata_text(buf: bytes, off: int, rdlen: int, rrtype: int, rrclass: int = CLASS_IN) -> str:
    """Presentation form of the rdata at ``buf[off:off+rdlen]``; raises ``DnsFormatError``."""
    if rrtype == t.A and rdlen == 4:
        return socket.inet_ntoa(buf[off : off + 4])
    if rrtype in _NAME_TYPES:
        return _exact_name(buf, off, off + rdlen)
    reader = _RDATA_READERS.get(rrtype)
    text = reader(buf, off, off + rdlen) if reader is not None else None
    return text if text is not None else _via_dnspython(buf, off, rdlen, rrtype, rrclass)


def _aaaa(buf: bytes, off: int, end: int) -> str | None:
    return socket.inet_ntop(socket.AF_INET6, buf[off:end]) if end - off == 16 else None


def _mx(buf: bytes, off: int, end: int) -> str | None:
    if end - off < 3:
        return None
    return f"{_H.unpack_from(buf, off)[0]} {_exact_name(buf, off + 2, end)}"


def _srv(buf: bytes, off: int, end: int) -> str | None:
    if end - off < 7:
        return None
    prio, weight, port = _SRV.unpack_from(buf, off)
    return f"{prio} {weight} {port} {_exact_name(buf, off + 6, end)}"


def _exact_name(buf: bytes, off: int, end: int) -> str:
    text, after = read_name(buf, off)
    if after != end:
        raise DnsFormatError("bad_rdata", "name does not fill the rdata")
    return text


def _simple_txt(buf: bytes, off: int, end: int) -> str | None:
    """Quoted character-strings when they are plain printable ASCII; else None (dnspython escapes)."""
    parts: list[str] = []
    while off < end:
        length = buf[off]
        nxt = off + 1 + length
        if nxt > end:
            raise DnsFormatError("bad_rdata", "TXT string runs past the rdata")
        chunk = buf[off + 1 : nxt]
        if not _PLAIN_TXT.fullmatch(chunk):
            return None
        parts.append('"' + chunk.decode("ascii") + '"')
        off = nxt
    if not parts:
        raise DnsFormatError("bad_rdata", "empty TXT rdata")
    return " ".join(parts)


def _soa(buf: bytes, off: int, end: int) -> str | None:
    mname, off = read_name(buf, off)
    rname, off = read_name(buf, off)
    if off + 20 != end:
        raise DnsFormatError("bad_rdata", "SOA rdata has the wrong length")
    serial, refresh, retry, expire, minimum = _SOA_INTS.unpack_from(buf, off)
    return f"{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"


_RDATA_READERS: dict[int, Callable[[bytes, int, int], str | None]] = {
    t.AAAA: _aaaa,
    t.MX: _mx,
    t.SRV: _srv,
    t.TXT: _simple_txt,
    t.SPF: _simple_txt,
    t.SOA: _soa,
}


def _via_dnspython(buf: bytes, off: int, rdlen: int, rrtype: int, rrclass: int) -> str:
    try:
        rdclass = dns.rdataclass.RdataClass.make(rrclass)
        rd = dns.rdata.from_wire(rdclass, dns.rdatatype.RdataType.make(rrtype), buf, off, rdlen)
        return rd.to_text()
    except Exception as exc:  # dnspython raises many kinds for hostile rdata
        raise DnsFormatError("bad_rdata", f"{t.rrtype_text(rrtype)} rdata: {type(exc).__name__}: {exc}") from None


def response_shape(buf: bytes) -> tuple[bytes, list[int]] | None:
    """A response's cache key with every TTL blanked, and the answer TTLs; None when it cannot be walked.

    The key is the flags, counts, question, answer and authority sections
    with TTLs zeroed: two responses with the same key decode to the same RRs
    (only their TTLs, given in the list, differ). The additional section
    (EDNS options, cookies) is left out of the key: nothing is taken from it.
    """
    n = len(buf)
    try:
        _, off = read_name_wire(buf, 12)
    except DnsFormatError:
        return None
    off += 4
    ancount, nscount = _HH.unpack_from(buf, 6) if n >= 12 else (0, 0)
    pieces: list[bytes] = []
    ttls: list[int] = []
    start = 2
    for i in range(ancount + nscount):
        while True:  # skip the owner name: labels, then a root byte or a pointer
            if off >= n:
                return None
            length = buf[off]
            if length == 0:
                off += 1
                break
            if length >= 0xC0:
                off += 2
                break
            off += 1 + length
        if off + 10 > n:
            return None
        if i < ancount:
            ttls.append(_TTL.unpack_from(buf, off + 4)[0])
        pieces.append(buf[start : off + 4])
        start = off + 8
        off += 10 + _H.unpack_from(buf, off + 8)[0]
    if off > n:
        return None
    pieces.append(buf[start:off])
    return b"\0\0\0\0".join(pieces), ttls
