"""What a Cuckoo/CAPE ``network.dns`` section can honestly say, shared by the sandbox parsers.

Cuckoo 2.0.x and CAPEv2 keep one entry per ``(query type, name)`` with the
answers of every response merged and deduplicated, and without the answers'
owner names; CAPEv2 even deduplicates answers across *all* entries of an
analysis, so an address, a CNAME or the NXDOMAIN marker seen under one name is
missing under the next. What stays true whatever the merge did, and is all
these parsers claim (the same rules as ``integrations/cuckoo/yapdns.py``):

* ``answer``: an answer of a non-CNAME type is a *pairing* of the name asked
  with that rdata (the name resolved to it, possibly through CNAMEs); a CNAME
  answer is one only when CNAME was the query type;
* ``cname``: any other CNAME target is a name of the chain, owner unknown: a
  name-only observation (rrtype ``TYPE0``: type not recorded);
* ``negative``: NXDOMAIN, only for a name with no CNAME anywhere in the analysis;
* ``query``: a name asked with no usable answer (a bare query);
* ``partial``: an answer the sandbox truncated (MX without preference, SRV,
  TXT/HINFO strings joined with spaces): kept in files, never turned into rdata.

Every observation is ``indirect`` evidence linked to the sample when the
analysis has a SHA-256.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

import msgspec

from yapdns.agent.parsers._addr import canonical_ip
from yapdns.agent.parsers.base import ParseError
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.rrtypes import UNRECORDED

UNKNOWN_TYPE = UNRECORDED
KINDS = frozenset({"answer", "cname", "negative", "query", "partial"})
_QTYPES: dict[str, str | None] = {"All": "ANY", "None": None, "": None}
_NAME_TYPES = frozenset({"CNAME", "NS", "PTR"})
_NAME_SPECIALS = '"().;\\@$'
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SPACE = re.compile(rb"\s")
_decode_object = msgspec.json.Decoder(dict[str, Any]).decode
_NEEDS_ESCAPE = re.compile(r'[\x00-\x20\x7f"().;\\@$]')  # a superset of every specials set used


class SandboxRow(NamedTuple):
    """One DNSDump v2 line: what one sandbox answer (or its absence) says."""

    ts: float
    task_id: str | None
    sha256: str | None
    qname: str
    qtype: str | None
    kind: str
    rcode: str | None
    rrtype: str | None
    rdata: str | None


def _to_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        return None
    for errors in ("strict", "surrogateescape"):
        try:
            return value.encode("utf-8", errors)
        except UnicodeError:
            continue
    return None


def _escape(raw: bytes, specials: str) -> str:
    """Presentation text: valid UTF-8 kept, control and undecodable bytes as ``\\DDD``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"\\{b:03d}" if b >= 0x80 else _escape_char(chr(b), specials) for b in raw)
    if not _NEEDS_ESCAPE.search(text):
        return text  # the common case: nothing to escape
    return "".join(_escape_char(c, specials) for c in text)


def _escape_char(char: str, specials: str) -> str:
    code = ord(char)
    if code <= 0x20 or code == 0x7F:
        return f"\\{code:03d}"
    return "\\" + char if char in specials else char


def presentation_name(value: object) -> str | None:
    """A name as a sandbox recorded it (text or bytes) in presentation form; ``None`` if unusable."""
    raw = _to_bytes(value)
    if raw is None:
        return None
    raw = raw.rstrip(b".")
    if not raw:
        return "."
    labels = [_escape(label, _NAME_SPECIALS) for label in raw.split(b".")]
    return None if not all(labels) else ".".join(labels)


def _quoted(raw: bytes) -> str:
    return '"' + _escape(raw, '\\"') + '"'


def answer_rdata(rrtype: str, data: object) -> str | None:
    """Presentation rdata of a sandbox answer, or ``None`` when the sandbox kept too little of it."""
    if rrtype in ("A", "AAAA"):
        return canonical_ip(str(data), rrtype)
    if rrtype in _NAME_TYPES:
        return presentation_name(data)
    raw = _to_bytes(data)
    if raw is None:
        return None
    if rrtype == "SOA":
        return _soa(raw)
    if rrtype == "TXT" and raw and not _SPACE.search(raw):
        return _quoted(raw)
    return _hinfo(raw) if rrtype == "HINFO" else None


def _hinfo(raw: bytes) -> str | None:
    words = raw.split(b" ")
    if len(words) != 2 or not all(words) or any(_SPACE.search(w) for w in words):
        return None
    return f"{_quoted(words[0])} {_quoted(words[1])}"


def _soa(raw: bytes) -> str | None:
    parts = raw.split(b",")
    if len(parts) != 7 or not all(p.isdigit() for p in parts[2:]):
        return None
    names = [presentation_name(p) for p in parts[:2]]
    if names[0] is None or names[1] is None:
        return None
    return " ".join([names[0], names[1], *(str(int(p)) for p in parts[2:])])


def partial_text(data: object) -> str | None:
    raw = _to_bytes(data)
    return None if raw is None else _escape(raw, "\\")


def _answers(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    seen: set[tuple[object, bytes]] = set()
    out: list[Mapping[str, Any]] = []
    answers = entry.get("answers")
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict) or "type" not in answer:
            continue
        key = (answer.get("type"), _to_bytes(answer.get("data")) or b"")
        if key not in seen:
            seen.add(key)
            out.append(answer)
    return out


def aliased_names(entries: Iterable[Mapping[str, Any]]) -> set[str | None]:
    """The names asked whose answers include a CNAME under any query type."""
    return {
        presentation_name(e.get("request"))
        for e in entries
        if any(a.get("type") == "CNAME" for a in _answers(e))
    }


def entry_rows(entry: Mapping[str, Any], aliased: set[str | None], ignore: frozenset[str] = frozenset()) -> Iterator[
    tuple[str | None, str, str | None, str | None, str | None]
]:
    """``(qtype, kind, rcode, rrtype, rdata)`` for one ``network.dns`` entry (see the module docstring)."""
    raw_qtype = entry.get("type")
    qtype = _QTYPES.get(raw_qtype, raw_qtype) if isinstance(raw_qtype, str) else None
    answered = nxdomain = False
    for answer in _answers(entry):
        rrtype, data = answer.get("type"), answer.get("data")
        if rrtype == "NXDOMAIN":
            nxdomain = True
            continue
        rdata = answer_rdata(rrtype, data) if isinstance(rrtype, str) else None
        if rrtype in ("A", "AAAA") and rdata in ignore:
            continue
        if rrtype == "CNAME" and qtype != "CNAME" and rdata:
            yield qtype, "cname", None, rrtype, rdata
        elif rdata:
            answered = True
            yield qtype, "answer", None, rrtype, rdata
        else:
            yield qtype, "partial", None, str(rrtype), partial_text(data)
    if not answered:
        negative = nxdomain and qtype is not None and presentation_name(entry.get("request")) not in aliased
        yield qtype, "negative" if negative else "query", "NXDOMAIN" if negative else None, None, None


def row_observation(row: SandboxRow, source: str) -> Observation | None:
    """The observation a row stands for; ``None`` for a ``partial`` row."""
    if row.kind == "partial":
        return None
    rrname, rrtype, rdata = row.qname, row.qtype or UNKNOWN_TYPE, tuple[str, ...]()
    if row.kind == "answer":
        rrtype, rdata = row.rrtype or UNKNOWN_TYPE, (row.rdata or "",)
    elif row.kind == "cname":
        rrname, rrtype = row.rdata or "", UNKNOWN_TYPE
    return Observation(
        rrname=rrname,
        rrtype=rrtype,
        rdata=rdata,
        time_first=int(row.ts),
        time_last=int(row.ts),
        rcode=row.rcode if row.kind == "negative" else None,
        source=source,
        evidence=Evidence.INDIRECT,
        sample=SampleRef(row.sha256, row.task_id) if row.sha256 else None,
    )


def json_document(data: bytes, what: str) -> dict[str, Any]:
    """A JSON document whose top level is an object (a report, a log); raise ``ParseError`` (``bad_json``)."""
    try:
        return _decode_object(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"not a {what}: {exc}", code="bad_json") from None


def sample_sha256(value: object) -> str | None:
    """A SHA-256 as lowercase hex, or ``None`` when ``value`` is not one."""
    text = value.lower() if isinstance(value, str) else ""
    return text if _SHA256.fullmatch(text) else None


def wall_clock_epoch(naive: datetime, tz: tzinfo | None) -> int:
    """A wall-clock time of zone ``tz`` (``None``: the host's zone) as UTC epoch seconds.

    A time that carries its own offset keeps it.
    """
    if naive.tzinfo is not None or tz is None:
        return int(naive.timestamp())
    return int(naive.replace(tzinfo=tz).timestamp())
