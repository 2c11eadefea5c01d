"""Real lines of the formats whose parsers keep something between lines, for the restart and quiet-log tests.

Each case is a golden sample (``tests/agent/parsers/golden/<format>/``, with
its ``.options.json``), a part of one, or lines the parser tests already
build from one: the msdns response is the committed query line edited as
``test_msdns`` does, the sysmon XML event is a real OTRF event rendered as
``test_sysmon`` does. A log is a case's lines repeated (``passes``), so a
test can write as many lines as it needs.

What each case makes its parser hold between lines: dnsmasq the RRset it is
folding and the queries that type later answers; unbound, PowerDNS Recursor
and msdns questions waiting for their answer line (unbound with log-queries
only: up to 64 questions before it knows the log has no answer lines);
dnsdb and sysmon the first lines of a multi-line object or event; gamelinux
the layout detected from the first line; zeek the ``#`` header lines; bind_query and coredns share the question queue of the query-log
parsers but never fill it (they are here to show that).
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from tests.agent.helpers import GOLDEN
from tests.agent.parsers.test_msdns import QUERY as MSDNS_QUERY
from tests.agent.parsers.test_msdns import RESPONSE as MSDNS_RESPONSE
from tests.agent.parsers.test_sysmon import EVENT as SYSMON_EVENT
from tests.agent.parsers.test_sysmon import _xml as sysmon_xml
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation

Key = tuple[str, ...]
KindTotals = dict[Key, tuple[int, int, int]]


class Case(NamedTuple):
    """One format's line material."""

    name: str
    fmt: str
    lines: tuple[str, ...]  # one pass, without line terminators
    options: dict[str, Any]

    def log(self, passes: int) -> list[str]:
        """``passes`` repetitions of the lines, each with its newline."""
        return [line + "\n" for _ in range(passes) for line in self.lines]

    def parser_options(self, sensor_id: str | None = None) -> ParserOptions:
        return ParserOptions(**self.options, sensor_id=sensor_id)

    def expected(self, written: Iterable[str]) -> KindTotals:
        """The exact totals of ``written`` read in one go by one parser instance, as the agent reads a file."""
        run = ParseRun(registry.parser_class(self.fmt)(self.parser_options()))
        return kind_totals(run.lines(line.rstrip("\n") for line in written))


def _sample(fmt: str, name: str) -> tuple[list[str], dict[str, Any]]:
    path = GOLDEN / fmt / name
    options_path = path.with_name(path.name + ".options.json")
    options = json.loads(options_path.read_text()) if options_path.exists() else {}
    return path.read_text(encoding="utf-8").splitlines(), options


def _case(name: str, fmt: str, sample: str, keep: slice = slice(None)) -> Case:
    lines, options = _sample(fmt, sample)
    return Case(name, fmt, tuple(lines[keep]), options)


def _unbound_queries() -> Case:
    lines, options = _sample("unbound", "logfile_ascii_tagged.log")
    return Case("unbound-queries-only", "unbound", tuple(x for x in lines if " query: " in x), options)


def _msdns() -> Case:
    _, options = _sample("msdns", "usiem-windns_parsers_test_line.log")
    return Case("msdns", "msdns", (MSDNS_QUERY, MSDNS_RESPONSE, MSDNS_QUERY), options)


def _sysmon() -> Case:
    lines, options = _sample("sysmon", "otrf_security_datasets_sysmon22.ndjson")
    return Case("sysmon", "sysmon", (*lines[:20], *sysmon_xml(SYSMON_EVENT), *lines[20:]), options)


def _pdns_recursor() -> Case:
    legacy, options = _sample("pdns_recursor", "legacy_stdout.log")
    structured, _ = _sample("pdns_recursor", "structured_stdout.log")
    return Case("pdns_recursor", "pdns_recursor", (*legacy, *structured), options)


CASES = [
    _case("bind_query", "bind_query", "querylog_print-time_iso8601-utc.log"),
    _case("coredns", "coredns", "kubernetes-website_dns-debugging_coredns-1.2.0.log"),
    _case("dnsdb", "dnsdb", "dnsdbq_man_examples.json"),
    _case("dnsmasq", "dnsmasq", "dnsmasq-2.90_log-queries.log"),
    _case("dnsmasq-extra", "dnsmasq", "dnsmasq-2.90_log-queries-extra.log"),
    _case("gamelinux", "gamelinux", "passivedns-1.2.1_zeek-traces_default.log", slice(0, 40)),
    _msdns(),
    _pdns_recursor(),
    _sysmon(),
    _case("unbound", "unbound", "logfile_ascii_tagged.log"),
    _unbound_queries(),
    _case("zeek", "zeek", "wrccdc2018_dns_subset.log", slice(0, 48)),
]
BY_NAME = {case.name: case for case in CASES}


def kind_totals(observations: Iterable[Observation]) -> KindTotals:
    """Per stored key, ``(time_first, time_last, count)`` as the store aggregates them.

    Keys: ``("answer", rrname, rrtype, rdata)`` per RR, ``("negative", rrname,
    rrtype, rcode)`` and ``("query", rrname, rrtype)``: every kind of
    observation counts, so a lost or doubled bare query shows too.
    """
    out: dict[Key, tuple[int, int, int]] = {}
    for obs in observations:
        if obs.rdata:
            keys: list[Key] = [("answer", obs.rrname, obs.rrtype, rdata) for rdata in obs.rdata]
        elif obs.rcode:
            keys = [("negative", obs.rrname, obs.rrtype, obs.rcode)]
        else:
            keys = [("query", obs.rrname, obs.rrtype)]
        for key in keys:
            first, last, count = out.get(key, (obs.time_first, obs.time_last, 0))
            out[key] = (min(first, obs.time_first), max(last, obs.time_last), count + obs.count)
    return out


def by_kind(keys: Iterable[Key]) -> dict[str, list[Key]]:
    grouped: dict[str, list[Key]] = collections.defaultdict(list)
    for key in keys:
        grouped[key[0]].append(key)
    return grouped


def write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines))
