"""Cuckoo 2.0.x / CAPEv2 ``report.json``: backfill passive DNS from an existing sandbox archive.

Reads ``network.dns`` with the same rules as the reporting module and the
DNSDump v2 files (see ``_sandbox``), so an archive imported later and a live
export agree. The sample is ``target.file.sha256`` (URL tasks have none and
are not linked), the task id ``info.id``.

Time: CAPEv2 keeps ``first_seen``, the pcap time of each entry (UTC epoch).
Without it (Cuckoo 2.0.x, CAPE before mid-2023) the analysis start
``info.started`` stands in; it is the sandbox host's wall clock, read in the
``timezone`` option's zone (default: this host's zone). CAPE writes it as
``"YYYY-MM-DD HH:MM:SS"`` (local time until 2026, UTC since); Cuckoo 2.0.x as
epoch seconds computed from the *local* wall clock as if it were UTC, which is
read back the same way. ``network.domains[].ip`` and ``network.hosts`` are not
used: Cuckoo resolves the former on the processing host after the analysis, and
the latter are contacted addresses without names.

``options.extra["ignore_addresses"]`` (comma-separated) drops answers that are
a fake DNS server's own address (INetSim): such names stay bare queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from yapdns.agent.parsers._logtime import zone_for
from yapdns.agent.parsers._sandbox import (
    SandboxRow,
    aliased_names,
    entry_rows,
    json_document,
    presentation_name,
    row_observation,
    sample_sha256,
    wall_clock_epoch,
)
from yapdns.agent.parsers.base import DocumentParser, ParseError
from yapdns.core.model import Evidence, Observation

_EPOCH = datetime(1970, 1, 1)


class CuckooReportParser(DocumentParser):
    name = "cuckoo_report"
    evidence = Evidence.INDIRECT
    timezone = "UTC for first_seen; info.started in the timezone option's zone (default: host's zone)"
    description = "Cuckoo 2.0.x / CAPEv2 report.json (network.dns), linked to the sample"

    def parse_document(self, data: bytes) -> Iterator[Observation]:
        report = json_document(data, "JSON report")
        network = report.get("network")
        if not isinstance(network, dict):
            raise ParseError("the report has no network section", code="no_network")
        entries = network.get("dns") or []
        if not isinstance(entries, list):
            raise ParseError("network.dns is not a list", code="bad_value")
        for row in self.rows(report, [e for e in entries if isinstance(e, dict)]):
            obs = row_observation(row, self.name)
            if obs is not None:
                yield obs

    def rows(self, report: Mapping[str, Any], entries: list[Mapping[str, Any]]) -> Iterator[SandboxRow]:
        """The DNSDump v2 rows of a report (the same rows the reporting module writes)."""
        info = _section(report, "info")
        task_id = None if info.get("id") is None else str(info["id"])
        file = _section(_section(report, "target"), "file")
        sha = sample_sha256(file.get("sha256"))
        started = self._started(info.get("started"))
        aliased = aliased_names(entries)
        ignore = frozenset(a.strip() for a in self.options.extra.get("ignore_addresses", "").split(",") if a.strip())
        for entry in entries:
            qname = presentation_name(entry.get("request"))
            if qname is None:
                continue
            ts = _first_seen(entry.get("first_seen"), started)
            for qtype, kind, rcode, rrtype, rdata in entry_rows(entry, aliased, ignore):
                yield SandboxRow(ts, task_id, sha, qname, qtype, kind, rcode, rrtype, rdata)

    def _started(self, value: object) -> float | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            naive = _EPOCH + timedelta(seconds=value)
        elif isinstance(value, str):
            try:
                naive = datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return None
        else:
            return None
        return wall_clock_epoch(naive, zone_for(self.options.timezone))


def _section(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _first_seen(value: object, started: float | None) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2**32:  # not NaN or inf
        return float(value)
    if started is None:
        raise ParseError("an entry has no first_seen and the report no info.started", code="no_time")
    return started


PARSER = CuckooReportParser
