"""Zeek ``dns.log``: TSV with ``#`` headers, and JSON (plain or json-streaming, epoch or ISO 8601 ``ts``).

TSV columns are mapped by the ``#fields`` header, which may change mid-file
(a new header block after rotation or a restart); ``#separator``,
``#set_separator``, ``#empty_field`` and ``#unset_field`` are honoured, and
``\\xNN`` escapes are decoded. What the ``#`` lines set travels with the
agent's checkpoint (``save_state``), so a resumed file keeps its header. A
file read from the middle without one (no saved state) has no header: rows of
the standard 24 or 26 columns are then mapped by the standard layout, any
other row is refused until a header arrives. JSON lines (``{...}``) need no
header; absent keys are unset.

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

import operator
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import msgspec

from yapdns.agent.parsers._logtime import IsoClock, parse_epoch
from yapdns.agent.parsers._zeek_answers import answer_shapes, smallest_ttl
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core import rrtypes
from yapdns.core.canonical import TTL_LIMIT, UNSEEN, Canonical, Template
from yapdns.core.digits import ascii_digits
from yapdns.core.errors import InvalidRRType
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import MAX_TIME, label_is_canonical, normalize_observation

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
_TTL_CACHE = 4096
_PLAN_LIMIT = 16384  # rows (question, rcode, answers) whose canonical observations are remembered
_Members = tuple[int, ...]  # the indexes in a row's answers (and TTLs) of an RRset's members
_Plan = tuple[tuple[Template, _Members | None], ...]  # a row's observations: canonical fields, TTL members
_UNSEEN_PLAN: _Plan = ((UNSEEN, None),)  # ``_plans.get(key, _UNSEEN_PLAN) is _UNSEEN_PLAN``: a row not seen yet


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
    answers: tuple[str, ...] | None = None
    TTLs: list[float] | None = None
    opcode: int | None = None
    orig_p: int | None = msgspec.field(name="id.orig_p", default=None)
    resp_p: int | None = msgspec.field(name="id.resp_p", default=None)


_decode_json = msgspec.json.Decoder(ZeekRow).decode
_TSV_FIELDS = ("ts", "query", "qclass", "qtype", "qtype_name", "rcode", "rcode_name", "TC", "answers", "TTLs",
               "opcode", "id.orig_p", "id.resp_p")  # fmt: skip


_DEFAULTS = ("\t", ",", "(empty)", "-")


class ZeekTsvHeader:
    """The state set by ``#`` lines: separators, and a getter of the needed columns of a row."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.width: int | None = None
        self.getter: Callable[[list[str]], tuple[str, ...]] | None = None
        self.from_header = False
        self.columns: tuple[str, ...] | None = None

    def save(self) -> Any:
        """What the ``#`` lines set (``None`` before any), JSON-able."""
        if self.columns is None and (self.separator, self.set_separator, self.empty, self.unset) == _DEFAULTS:
            return None
        columns = None if self.columns is None else list(self.columns)
        return [self.separator, self.set_separator, self.empty, self.unset, columns, self.from_header]

    def load(self, state: Any) -> None:
        self.separator, self.set_separator, self.empty, self.unset, columns, from_header = state
        if columns is not None:
            self._set_columns(columns, from_header=from_header)

    def directive(self, line: str) -> None:
        if line.startswith("#separator "):
            self.separator = unescape(line[len("#separator ") :])
            return
        key, _, value = line[1:].partition(self.separator)
        if key == "fields":
            self._set_columns(value.split(self.separator))
        elif key == "set_separator":
            self.set_separator = unescape(value)
        elif key == "empty_field":
            self.empty = value
        elif key == "unset_field":
            self.unset = value

    def _set_columns(self, names: Sequence[str], *, from_header: bool = True) -> None:
        self.columns = tuple(names)
        index = {name: i for i, name in enumerate(names)}
        # A missing column points one past the row, where each row gets the unset marker appended.
        self.width = len(names)
        self.getter = operator.itemgetter(*(index.get(name, len(names)) for name in _TSV_FIELDS))
        self.from_header = from_header

    def fields(self, line: str) -> tuple[str, ...]:
        """The needed columns of a data row, in ``_TSV_FIELDS`` order; raise ``ParseError``."""
        parts = line.split(self.separator)
        if len(parts) != self.width:
            if self.from_header:
                raise ParseError(f"{len(parts)} columns where #fields has {self.width}", code="bad_columns")
            standard = _STANDARD_LAYOUTS.get(len(parts))
            if standard is None:
                raise ParseError(f"no #fields header yet and {len(parts)} columns is not a standard layout",
                                 code="no_header")  # fmt: skip
            self._set_columns(standard, from_header=False)
        parts.append(self.unset)
        return self.getter(parts)  # type: ignore[misc]


class ZeekDnsParser(LineParser):
    name = "zeek"
    evidence = Evidence.DIRECT
    timezone = "UTC (epoch seconds or ISO 8601 with Z)"
    description = "Zeek dns.log: TSV with #fields headers, JSON and json-streaming"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self._header = ZeekTsvHeader()
        self._iso = IsoClock()
        self._ttls: dict[str, tuple[int, ...]] = {}
        keep = self.options.extra.get("multicast", "skip")
        self._skip_ports = _SKIPPED_PORTS | (frozenset() if keep == "keep" else _MULTICAST_PORTS)
        self._skip_port_texts = frozenset(str(p) for p in self._skip_ports)
        self._sensor = self.options.sensor_id or None  # set here so that a row can be promised canonical
        self._promise = label_is_canonical(self._sensor)  # an invalid sensor id: every row normalized by the run
        self._plans: dict[tuple[object, ...], _Plan | None] = {}
        self._raw_plans: dict[tuple[object, ...], _Plan] = {}  # the same plans by a row's fields as read

    def save_state(self) -> Any:
        return self._header.save()

    def load_state(self, state: Any) -> None:
        self._header.load(state)
        self._raw_plans.clear()

    def parse_line(self, line: str) -> list[Observation]:
        if not line or line.isspace():
            return []
        first = line[0]
        if first == "#":
            header = self._header
            markers = (header.separator, header.set_separator, header.empty, header.unset)
            header.directive(line)
            if markers != (header.separator, header.set_separator, header.empty, header.unset):
                self._raw_plans.clear()  # what a row's fields mean has changed
            return []
        if first == "{":
            return self._json_row(line)
        return self._tsv_row(line)

    def _json_row(self, line: str) -> list[Observation]:
        try:
            row = _decode_json(line)
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise ParseError(f"not a Zeek JSON row: {exc}") from None
        if (row.opcode or 0) != 0 or row.resp_p in self._skip_ports or row.orig_p in self._skip_ports:
            return []
        if row.query is None or (row.qclass is not None and row.qclass & 0x7FFF != 1):
            return []
        when = self._time(row.ts)
        raw_key = ("json", row.query, row.qtype, row.qtype_name, row.rcode, row.rcode_name, row.answers, row.TC)
        plan = self._raw_plans.get(raw_key)
        if plan is not None and 0 <= when <= MAX_TIME:
            ttls = [int(t) for t in row.TTLs] if row.TTLs else ()
            if (out := self._planned(plan, when, ttls)) is not None:
                return out
        return self._observations(
            when,
            unescape(row.query),
            _qtype_text(None if row.qtype is None else str(row.qtype), row.qtype_name),
            rcode=row.rcode_name or (None if row.rcode is None else str(row.rcode)),
            answers=[unescape(a) for a in row.answers] if row.answers else (),
            ttls=[int(t) for t in row.TTLs] if row.TTLs else (),
            truncated=bool(row.TC),
            raw_key=raw_key,
        )

    def _tsv_row(self, line: str) -> list[Observation]:
        header = self._header
        ts, query, qclass, qtype, qtype_name, rcode, rcode_name, tc, answers, ttls, opcode, orig_p, resp_p = (
            header.fields(line)
        )
        unset, empty = header.unset, header.empty
        if opcode not in (unset, "0") or resp_p in self._skip_port_texts or orig_p in self._skip_port_texts:
            return []
        if query == unset or (qclass not in (unset, "1") and _not_internet(qclass)):
            return []
        if ttls in (unset, empty):
            ttl_values: Sequence[int] = ()
        else:
            ttl_values = self._ttls.get(ttls) or self._parse_ttls(ttls)
        head, _, frac = ts.partition(".")  # parse_epoch, inlined for the common case
        when = int(head) if ts.isascii() and head.isdigit() and (not frac or frac.isdigit()) else parse_epoch(ts)
        raw_key = ("tsv", query, qtype, qtype_name, rcode, rcode_name, answers, tc)
        plan = self._raw_plans.get(raw_key)
        if plan is not None and 0 <= when <= MAX_TIME and (out := self._planned(plan, when, ttl_values)) is not None:
            return out
        if answers in (unset, empty):
            answer_list: Sequence[str] = ()
        else:
            answer_list = answers.split(header.set_separator)
            if "\\x" in answers:
                answer_list = [unescape(a) for a in answer_list]
        return self._observations(
            when,
            "" if query == empty else unescape(query),
            _qtype_text(None if qtype == unset else qtype, None if qtype_name == unset else qtype_name),
            rcode=rcode_name if rcode_name != unset else (None if rcode == unset else rcode),
            answers=answer_list,
            ttls=ttl_values,
            truncated=tc == "T",
            raw_key=raw_key,
        )

    def _parse_ttls(self, text: str) -> tuple[int, ...]:
        """A ``TTLs`` vector as integers; the same vectors recur, so they are kept (up to a bound)."""
        try:
            values = tuple(int(float(t)) for t in text.split(self._header.set_separator))
        except (ValueError, OverflowError):
            raise ParseError(f"bad TTLs {text[:60]!r}", code="bad_value") from None
        if len(self._ttls) >= _TTL_CACHE:
            self._ttls.clear()
        self._ttls[text] = values
        return values

    def _observations(
        self, when: int, query: str, qtype: str | None, *, rcode: str | None, answers: Sequence[str],
        ttls: Sequence[int], truncated: bool, raw_key: tuple[object, ...] | None = None,
    ) -> list[Observation]:  # fmt: skip
        """The observations of a row: ``Canonical`` when the row's records are known canonical (``_plan``) and
        its time and TTLs in range (checked here; both are ``int`` by construction), else as read. A row's plan
        is also remembered by its fields as read (``raw_key``; a TSV row's mean the same until a ``#`` line
        changes a marker)."""
        query = query or "."  # Zeek logs the root name as an empty string
        if not self._promise or not 0 <= when <= MAX_TIME:
            return [obs for obs, _ in self._shaped(when, query, qtype, rcode, answers, ttls, truncated)]
        key = (query, qtype, rcode, tuple(answers), truncated)
        plan = self._plans.get(key, _UNSEEN_PLAN)
        if plan is _UNSEEN_PLAN:
            shaped = self._shaped(when, query, qtype, rcode, answers, ttls, truncated)
            done = self._plan(key, raw_key, shaped)
            return [obs for obs, _ in shaped] if done is None else done
        if plan is not None:
            if raw_key is not None and len(self._raw_plans) < _PLAN_LIMIT:
                self._raw_plans[raw_key] = plan
            out = self._planned(plan, when, ttls)
            if out is not None:
                return out
        return [obs for obs, _ in self._shaped(when, query, qtype, rcode, answers, ttls, truncated)]

    def _planned(self, plan: _Plan, when: int, ttls: Sequence[int]) -> Canonical | None:
        """A row's canonical observations by its plan, at ``when`` (in range), or None if a TTL is out of range."""
        out = Canonical()
        for (name, rrtype, rdata, rcode), members in plan:
            ttl = None if members is None else smallest_ttl(ttls, members)
            if ttl is not None and not 0 <= ttl < TTL_LIMIT:
                return None
            out.append(Observation(rrname=name, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when, ttl=ttl,
                                   rcode=rcode, source="zeek", sensor_id=self._sensor))  # fmt: skip
        return out

    def _plan(
        self, key: tuple[object, ...], raw_key: tuple[object, ...] | None,
        shaped: list[tuple[Observation, _Members | None]],
    ) -> Canonical | None:  # fmt: skip
        """A row seen for the first time: its observations normalized (None if one is refused, or has a TTL out of
        range), and their canonical fields and TTL members remembered as the row's plan."""
        out = Canonical()
        plan: list[tuple[Template, _Members | None]] = []
        for obs, members in shaped:
            if obs.ttl is not None and not 0 <= obs.ttl < TTL_LIMIT:
                return None  # not remembered: the record may well be canonical, the next row will tell
            try:
                done = normalize_observation(obs)
            except Exception:
                break
            out.append(done)
            plan.append(((done.rrname, done.rrtype, done.rdata, done.rcode), members))  # as template_of
        result = tuple(plan) if len(plan) == len(shaped) else None
        if len(self._plans) < _PLAN_LIMIT:
            self._plans[key] = result
            if result is not None and raw_key is not None:
                self._raw_plans[raw_key] = result
        return None if result is None else out

    def _shaped(
        self, when: int, query: str, qtype: str | None, rcode: str | None, answers: Sequence[str],
        ttls: Sequence[int], truncated: bool,
    ) -> list[tuple[Observation, _Members | None]]:  # fmt: skip
        """The observations of a row as read, each with the answer indexes its TTL comes from."""
        sensor = self._sensor
        if rcode is None and not answers:  # no reply seen: a bare query
            if qtype is None:
                return []
            return [(Observation(rrname=query, rrtype=qtype, time_first=when, time_last=when, source="zeek",
                                 sensor_id=sensor), None)]  # fmt: skip
        produced: list[tuple[Observation, _Members | None]] = []
        chain_end = query
        if answers:
            shapes, chain_end = answer_shapes(query, qtype, tuple(answers))
            produced = [
                (Observation(rrname=owner, rrtype=rrtype, rdata=rdata, time_first=when, time_last=when,
                             ttl=smallest_ttl(ttls, members), source="zeek", sensor_id=sensor), members)
                for owner, rrtype, rdata, members in shapes
            ]  # fmt: skip
        if qtype is None or rcode is None:
            return produced
        if rcode in ("NOERROR", "0") and (answers or truncated or qtype not in _NODATA_QTYPES):
            return produced  # an answer, a truncated reply, or a type whose answers Zeek does not log
        produced.append((
            Observation(rrname=chain_end, rrtype=qtype, time_first=when, time_last=when, rcode=rcode, source="zeek",
                        sensor_id=sensor),
            None,
        ))  # fmt: skip
        return produced

    def _time(self, ts: float | str) -> int:
        if isinstance(ts, float):
            if not 0 <= ts < 2**32:
                raise ParseError(f"ts {ts} out of range", code="bad_time")
            return int(ts)
        if ascii_digits(ts[:1]) and "T" not in ts and "-" not in ts:
            return parse_epoch(ts)
        return self._iso.epoch(ts)


def _not_internet(qclass: str) -> bool:
    try:
        return int(qclass) & 0x7FFF != 1
    except ValueError:
        raise ParseError(f"bad qclass {qclass[:20]!r}", code="bad_value") from None


PARSER = ZeekDnsParser
