"""DNSDump v2: the TSV written per analysis by the YAPDNS Cuckoo/CAPE reporting module.

Header lines start with ``#`` (``#fields`` names the columns, Zeek-style); each
data line is one sandbox answer, its absence or a negative answer::

    ts  ts_source  task_id  sha256  qname  qtype  kind  rcode  rrtype  rdata

``-`` is an unset field; names and rdata are in DNS presentation form
(``\\DDD`` escapes). ``ts`` is UTC epoch seconds with a fraction (the packet
time when ``ts_source`` is ``packet``, else the analysis start). The ``kind``
column carries the reporting module's reading of the sandbox data (see
``_sandbox``): each line maps to at most one ``indirect`` observation linked to
the sample, so a data line never depends on another; the ``#fields`` order
travels with the agent's checkpoint (``save_state``), so a restart mid-file
loses nothing. ``partial`` lines (answers the sandbox truncated) yield nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from yapdns.agent.parsers._sandbox import KINDS, SandboxRow, row_observation, sample_sha256
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.core.model import Evidence, Observation

FIELDS = ("ts", "ts_source", "task_id", "sha256", "qname", "qtype", "kind", "rcode", "rrtype", "rdata")
_REQUIRED = frozenset(FIELDS) - {"ts_source"}


class DnsDump2Parser(LineParser):
    name = "dnsdump2"
    evidence = Evidence.INDIRECT
    timezone = "UTC (epoch seconds with fraction)"
    description = "DNSDump v2 TSV from the YAPDNS Cuckoo 2.x / CAPEv2 reporting module"

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.fields: tuple[str, ...] = FIELDS  # a file read from an offset has no header: v2 order

    def save_state(self) -> Any:
        return None if self.fields == FIELDS else list(self.fields)

    def load_state(self, state: Any) -> None:
        self.fields = tuple(state)

    def parse_line(self, line: str) -> Iterator[Observation]:
        if not line.strip():
            return
        if line.startswith("#"):
            self._header(line)
            return
        values = line.split("\t")
        if len(values) != len(self.fields):
            raise ParseError(f"{len(values)} fields, the header names {len(self.fields)}", code="field_count")
        row = dict(zip(self.fields, (None if v == "-" else v for v in values), strict=True))
        obs = row_observation(_sandbox_row(row), self.name)
        if obs is not None:
            yield obs

    def _header(self, line: str) -> None:
        key, _, rest = line[1:].partition("\t")
        if key == "format" and rest.strip() != "dnsdump2":
            raise ParseError(f"not a DNSDump v2 file (format {rest.strip()[:40]!r})", code="wrong_format")
        if key == "fields":
            fields = tuple(rest.rstrip("\r\n").split("\t"))
            missing = _REQUIRED - set(fields)
            if missing:
                raise ParseError(f"#fields lacks {', '.join(sorted(missing))}", code="bad_header")
            self.fields = fields


def _sandbox_row(row: dict[str, str | None]) -> SandboxRow:
    kind = row.get("kind") or ""
    if kind not in KINDS:
        raise ParseError(f"unknown kind {kind[:20]!r}", code="bad_value")
    qname = row.get("qname")
    if not qname:
        raise ParseError("no qname", code="missing_field")
    try:
        ts = float(row.get("ts") or "")
    except ValueError:
        raise ParseError(f"bad ts {str(row.get('ts'))[:30]!r}", code="bad_time") from None
    if not math.isfinite(ts):
        raise ParseError("ts is not a finite number", code="bad_time")
    sha = row.get("sha256")
    if sha is not None and sample_sha256(sha) is None:
        raise ParseError("sha256 is not 64 hex digits", code="bad_value")
    if kind in ("answer", "cname") and not row.get("rdata"):
        raise ParseError(f"a {kind} line without rdata", code="missing_field")
    return SandboxRow(
        ts=ts,
        task_id=row.get("task_id"),
        sha256=sample_sha256(sha),
        qname=qname,
        qtype=row.get("qtype"),
        kind=kind,
        rcode=row.get("rcode"),
        rrtype=row.get("rrtype"),
        rdata=row.get("rdata"),
    )


PARSER = DnsDump2Parser
