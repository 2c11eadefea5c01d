"""Zeek ``dns.log``: TSV with ``#`` headers, and JSON (plain or json-streaming, epoch or ISO 8601 ``ts``).

TSV columns are mapped by the ``#fields`` header, which may change mid-file
(a new header block after rotation or a restart); ``#separator``,
``#set_separator``, ``#empty_field`` and ``#unset_field`` are honoured, and
``\\xNN`` escapes are decoded. A file read from the middle (the agent resumes
at a saved offset) has no header: rows of the standard 24 or 26 columns are
then mapped by the standard layout, any other row is refused until a header
arrives. JSON lines (``{...}``) need no header; absent keys are unset.

One row is one DNS transaction and yields (see ``_zeek_answers`` for exactly
what is inferred from the untyped ``answers`` vector):

* the reconstructed RRsets of the answer section, with their TTLs;
* a negative observation for any rcode other than NOERROR (about the end of
  the CNAME chain), and a NODATA one for a NOERROR answer with no records
  (unless the reply was truncated, or Zeek does not log answers of that type,
  such as WKS, HINFO or TKEY);
* a bare query when no reply was seen (``rcode`` unset and no answers).

Rows of other opcodes than QUERY, of other classes than IN (CHAOS ``version.bind``),
NetBIOS (port 137) rows, and by default
mDNS/LLMNR rows (port 5353/5355, link-local claims rather than DNS) are skipped.
Options (``ParserOptions.extra``): ``multicast``: ``keep`` to keep mDNS/LLMNR rows.
Times: ``ts`` is UTC (epoch seconds, or ISO 8601 with ``Z``). Evidence: direct.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import msgspec

from yapdns.agent.parsers._localtime import IsoClock, parse_epoch
from yapdns.agent.parsers._zeek_answers import reconstruct
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core import rrtypes
from yapdns.core.errors import InvalidRRType
from yapdns.core.model import Evidence, Observation

_STANDARD = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query", "qclass",
    "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z", "answers", "TTLs",
    "rejected",
]  # fmt: skip
_STANDARD_LAYOUTS = {len(_STANDARD): _STANDARD, len(_STANDARD) + 2: [*_STANDARD, "opcode", "opcode_name"]}
_SKIPPED_PORTS = frozenset({137})
_MULTICAST_PORTS = frozenset({5353, 5355})
# Query types whose every answer RR Zeek writes into ``answers`` (WKS, HINFO, TKEY... are
# dropped by main.zeek), so that an empty NOERROR reply is certainly a NODATA.
_NODATA_QTYPES = frozenset(
    {"A", "AAAA", "CNAME", "NS", "PTR", "MX", "SOA", "TXT", "SPF", "SRV", "NAPTR", "DS", "DNSKEY", "SSHFP",
     "LOC", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CAA", "HTTPS", "SVCB", "DNAME"}
)  # fmt: skip
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def unescape(value: str) -> str:
    """Decode Zeek's ``\\xNN`` byte escapes (invalid UTF-8 is kept as surrogate escapes)."""
    if "\\x" not in value:
        return value
    raw = _ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), value.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


@lru_cache(maxsize=1024)
def _qtype_text(qtype: str | None, qtype_name: str | None) -> str | None:
    """The mnemonic of the query type, from the numeric ``qtype`` or else ``qtype_name``."""
    for value in (qtype, qtype_name):
        if value is None:
            continue
        try:
            return rrtypes.normalize_rrtype("ANY" if value == "*" else value)
        except InvalidRRType:
            continue
    return None


class ZeekRow(msgspec.Struct):
    """The fields of a dns.log row that matter here (JSON keys; unset fields are ``None``)."""

    ts: float | str
    query: str | None = None
    qclass: int | None = None
    qtype: int | None = None
    qtype_name: str | None = None
    rcode: int | None = None
    rcode_name: str | None = None
    TC: bool | None = None
    answers: list[str] | None = None
    TTLs: list[float] | None = None
    opcode: int | None = None
    orig_p: int | None = msgspec.field(name="id.orig_p", default=None)
    resp_p: int | None = msgspec.field(name="id.resp_p", default=None)


_decode_json = msgspec.json.Decoder(ZeekRow).decode


class ZeekTsvHeader:
    """The state set by ``#`` lines: separators and the column of each field."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.columns: dict[str, int] | None = None

    def directive(self, line: str) -> None:
        if line.startswith("#separator "):
            self.separator = unescape(line[len("#separator ") :])
            return
        key, _, value = line[1:].partition(self.separator)
        if key == "fields":
            self.columns = {name: i for i, name in enumerate(value.split(self.separator))}
        elif key == "set_separator":
            self.set_separator = unescape(value)
        elif key == "empty_field":
            self.empty = value
        elif key == "unset_field":
            self.unset = value

    def columns_for(self, width: int) -> dict[str, int]:
        if self.columns is not None:
            return self.columns
        standard = _STANDARD_LAYOUTS.get(width)
        if standard is None:
            raise ParseError(f"no #fields header yet and {width} columns is not a standard layout", code="no_header")
        return {name: i for i, name in enumerate(standard)}


class ZeekDnsParser(LineParser):
    name = "zeek"
    evidence = Evidence.DIRECT
    timezone = "UTC (epoch seconds or ISO 8601 with Z)"
    description = "Zeek dns.log: TSV with #fields headers, JSON and json-streaming"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._header = ZeekTsvHeader()
        self._iso = IsoClock()
        keep = self.options.extra.get("multicast", "skip")
        self._skip_ports = _SKIPPED_PORTS | (frozenset() if keep == "keep" else _MULTICAST_PORTS)

    def parse_line(self, line: str) -> Iterator[Observation]:
        if not line or line.isspace():
            return
        first = line[0]
        if first == "#":
            self._header.directive(line)
            return
        row = self._json_row(line) if first == "{" else self._tsv_row(line)
        if row is not None:
            yield from self._observations(row)

    def _json_row(self, line: str) -> ZeekRow | None:
        try:
            row = _decode_json(line)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise ParseError(f"not a Zeek JSON row: {exc}") from None
        if row.query is not None:
            row.query = unescape(row.query)
        if row.answers is not None:
            row.answers = [unescape(a) for a in row.answers]
        return row

    def _tsv_row(self, line: str) -> ZeekRow | None:
        header = self._header
        parts = line.split(header.separator)
        cols = header.columns_for(len(parts))
        if len(parts) != len(cols):
            raise ParseError(f"{len(parts)} columns where #fields has {len(cols)}", code="bad_columns")
        unset, empty = header.unset, header.empty

        def get(name: str) -> str | None:
            i = cols.get(name)
            if i is None:
                return None
            value = parts[i]
            return None if value == unset else value

        try:
            return ZeekRow(
                ts=get("ts") or "",
                query=("" if q == empty else unescape(q)) if (q := get("query")) is not None else None,
                qclass=int(v) if (v := get("qclass")) is not None else None,
                qtype=int(v) if (v := get("qtype")) is not None else None,
                qtype_name=get("qtype_name"),
                rcode=int(v) if (v := get("rcode")) is not None else None,
                rcode_name=get("rcode_name"),
                TC=(v == "T") if (v := get("TC")) is not None else None,
                answers=self._vector(get("answers"), empty),
                TTLs=[float(t) for t in ttl] if (ttl := self._vector(get("TTLs"), empty)) is not None else None,
                opcode=int(v) if (v := get("opcode")) is not None else None,
                orig_p=int(v) if (v := get("id.orig_p")) is not None else None,
                resp_p=int(v) if (v := get("id.resp_p")) is not None else None,
            )
        except ValueError as exc:
            raise ParseError(f"bad number in row: {exc}", code="bad_value") from None

    def _vector(self, value: str | None, empty: str) -> list[str] | None:
        if value is None:
            return None
        if value == empty:
            return []
        return [unescape(v) for v in value.split(self._header.set_separator)]

    def _observations(self, row: ZeekRow) -> Iterator[Observation]:
        if (row.opcode or 0) != 0 or row.resp_p in self._skip_ports or row.orig_p in self._skip_ports:
            return
        if row.qclass is not None and row.qclass & 0x7FFF != 1:
            return  # CHAOS (version.bind) and other non-Internet classes; mDNS sets the top bit
        query = row.query
        if query is None:
            return
        query = query or "."  # Zeek logs the root name as an empty string
        when = self._time(row.ts)
        qtype = _qtype_text(None if row.qtype is None else str(row.qtype), row.qtype_name)
        answers = row.answers or []
        rcode = row.rcode_name or (str(row.rcode) if row.rcode is not None else None)
        if rcode is None and not answers:
            if qtype is not None:
                yield Observation(rrname=query, rrtype=qtype, time_first=when, time_last=when, source="zeek")
            return
        chain_end = query
        if answers:
            rebuilt = reconstruct(query, qtype, answers, [int(t) for t in row.TTLs or ()])
            chain_end = rebuilt.chain_end
            for rrset in rebuilt.rrsets:
                yield Observation(
                    rrname=rrset.owner, rrtype=rrset.rrtype, rdata=rrset.rdata, time_first=when, time_last=when,
                    ttl=rrset.ttl, source="zeek",
                )  # fmt: skip
        if qtype is None or rcode is None:
            return
        if rcode == "NOERROR" and (answers or row.TC or qtype not in _NODATA_QTYPES):
            return  # an answer, a truncated reply, or a type whose answers Zeek does not log
        yield Observation(rrname=chain_end, rrtype=qtype, time_first=when, time_last=when, rcode=rcode, source="zeek")

    def _time(self, ts: float | str) -> int:
        if isinstance(ts, float):
            if not 0 <= ts < 2**32:
                raise ParseError(f"ts {ts} out of range", code="bad_time")
            return int(ts)
        if ts[:1].isdigit() and "T" not in ts and "-" not in ts:
            return parse_epoch(ts)
        return self._iso.epoch(ts)


PARSER = ZeekDnsParser
