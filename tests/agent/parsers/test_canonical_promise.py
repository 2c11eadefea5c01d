"""The ``Canonical`` promise of line parsers, checked against ``normalize_observation``.

A parser that returns ``core/canonical.Canonical`` promises that each observation in it is what normalization
would make of it; ``ParseRun`` then passes it on unchecked. Here every line format runs over every golden sample,
and over lines generated from the gamelinux layouts with odd values in every field (hypothesis), twice: as the
agent runs it, and with every promise withdrawn (each ``Canonical`` handed to ``ParseRun`` as a plain list, so that
it is normalized). Output (values and exact types), counters and bad-line samples must be equal, and each promised
observation must equal ``normalize_observation`` of itself.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yapdns.agent.parsers import registry, zeek
from yapdns.agent.parsers.base import LineParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.canonical import Canonical
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import normalize_observation

GOLDEN = Path(__file__).parent / "golden"
_SKIP = (".golden.ndjson", ".options.json")
_TEXT_FIELDS = ("rrname", "rrtype", "rcode", "bailiwick", "sensor_id", "source")
_INT_FIELDS = ("time_first", "time_last", "count")


def _line_samples() -> list[Path]:
    return sorted(
        p
        for p in GOLDEN.glob("*/*")
        if p.is_file()
        and p.name != "PROVENANCE.txt"
        and not p.name.endswith(_SKIP)
        and issubclass(registry.parser_class(p.parent.name), LineParser)
    )


def _options(sample: Path, sensor: str | None) -> ParserOptions:
    path = sample.with_name(sample.name + ".options.json")
    options = msgspec.convert(json.loads(path.read_text()), ParserOptions) if path.exists() else ParserOptions()
    return msgspec.structs.replace(options, sensor_id=sensor)


def exactly_canonical(obs: Observation) -> bool:
    """Whether ``obs`` is its own normalization, field for field and type for type."""
    try:
        if normalize_observation(obs) != obs:
            return False
    except Exception:
        return False
    return (
        all(getattr(obs, name) is None or type(getattr(obs, name)) is str for name in _TEXT_FIELDS)
        and all(type(getattr(obs, name)) is int for name in _INT_FIELDS)
        and (obs.ttl is None or type(obs.ttl) is int)
        and type(obs.rdata) is tuple
        and all(type(r) is str for r in obs.rdata)
        and type(obs.evidence) is Evidence
    )


class _Checked:
    """The parser's ``parse_line``: every promised observation checked, and the promise kept or withdrawn."""

    def __init__(self, parser: LineParser, *, promise: bool) -> None:
        self.inner, self.promise, self.promised = parser.parse_line, promise, 0
        self.broken: list[Observation] = []  # promised but not canonical (kept here: ParseRun counts what raises)

    def __call__(self, line: str) -> Iterable[Observation]:
        got = self.inner(line)
        if type(got) is not Canonical:
            return got
        self.promised += len(got)
        self.broken += [obs for obs in got if not exactly_canonical(obs)]
        return got if self.promise else list(got)


def _run(
    fmt: str, options: ParserOptions, lines: list[str], *, promise: bool
) -> tuple[list[object], dict[str, object], int]:
    parser = registry.parser_class(fmt)(options)
    assert isinstance(parser, LineParser)
    checked = _Checked(parser, promise=promise)
    parser.parse_line = checked  # type: ignore[method-assign]
    run = ParseRun(parser)
    out = [(o, tuple(type(getattr(o, f)) for f in _TEXT_FIELDS)) for o in run.lines(lines)]
    assert checked.broken == [], "promised canonical, but normalization changes or refuses them"
    return out, run.stats.as_dict(), checked.promised


def assert_promise_kept(fmt: str, options: ParserOptions, lines: list[str]) -> int:
    """Run ``lines`` with and without the promise; equal in all respects. The number of promised observations."""
    kept, kept_stats, promised = _run(fmt, options, lines, promise=True)
    withdrawn, withdrawn_stats, _ = _run(fmt, options, lines, promise=False)
    assert kept == withdrawn
    assert kept_stats == withdrawn_stats
    return promised


@pytest.mark.parametrize("sensor", [None, "sensor-1", "bad sensor!"])
@pytest.mark.parametrize("sample", _line_samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_samples_keep_the_promise(sample: Path, sensor: str | None) -> None:
    lines = sample.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    assert_promise_kept(sample.parent.name, _options(sample, sensor), lines)


def test_gamelinux_promises_its_common_lines() -> None:
    """The promise is made (else the tests above would check nothing), and withdrawn for an invalid sensor."""
    sample = GOLDEN / "gamelinux" / "passivedns-1.2.1_zeek-traces_default.log"
    lines = sample.read_text().splitlines()
    assert assert_promise_kept("gamelinux", ParserOptions(), lines) > len(lines) // 2
    assert assert_promise_kept("gamelinux", ParserOptions(sensor_id="bad sensor!"), lines) == 0


_NAME = st.one_of(
    st.sampled_from(["wikipedia.org.", "WikiPedia.ORG", "a.b", ".", "", "xn--bcher-kva.example.", "b\\032c.d."]),
    st.text(alphabet="abcXYZ09-._\\é ", max_size=12),
)
_RECORDS = [
    ("A", "208.80.154.224"), ("AAAA", "2001:DB8::1"), ("AAAA", "2001:db8:0::1"), ("CNAME", "www.Example.com."),
    ("TXT", "\"v=spf1 -all\""), ("A", "NXDOMAIN"), ("AAAA", "SERVFAIL"), ("MX", "NXDOMAIN"), ("a", "10.0.0.1"),
    ("TYPE65", "\\# 0"), ("PTR", "host.example."),
]  # fmt: skip
_RECORD = st.sampled_from(_RECORDS)
_TYPE = st.sampled_from(["A", "AAAA", "CNAME", "TXT", "MX", "SOA", "a", "TYPE65", "BOGUS", ""])
_ANSWER = st.one_of(
    st.sampled_from(["208.80.154.224", "2001:DB8::1", "2001:db8:0::1", "www.Example.com.", "NXDOMAIN",
                     "SERVFAIL", "NOTIMPL", "1.2.3", "\"txt\" \"x\"", ""]),
    st.text(alphabet="0123456789.:abcdef ", max_size=16),
)  # fmt: skip
_EDGES = [-1, 0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**40 + 1]
_NUMBER = st.one_of(st.integers(-5, 5), st.sampled_from(_EDGES))


def _gamelinux_line(when: int, name: str, rrtype: str, answer: str, ttl: int, count: int, as_json: bool) -> str:
    if as_json:
        return json.dumps({"timestamp_s": when, "query": name, "type": rrtype, "answer": answer, "ttl": ttl,
                           "count": count})  # fmt: skip
    return f"{when}.5||192.168.0.9||208.80.154.238||IN||{name}||{rrtype}||{answer}||{ttl}||{count}"


@given(
    st.lists(
        st.tuples(_NUMBER, _NAME, st.one_of(_RECORD, st.tuples(_TYPE, _ANSWER)), _NUMBER, _NUMBER, st.booleans()),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([None, "sensor-1"]),
)
def test_gamelinux_odd_values_keep_the_promise(rows: list[tuple[int, str, tuple[str, str], int, int, bool]],
                                               sensor: str | None) -> None:  # fmt: skip
    """Each record first with sane numbers (so that it is learnt), then with the odd ones drawn."""
    sane = [
        _gamelinux_line(1597501603, name, rrtype, answer, 60, 1, as_json)
        for _, name, (rrtype, answer), *_, as_json in rows
    ]
    odd = [
        _gamelinux_line(
            1597501603 + stamp if stamp in range(-5, 6) else stamp, name, rrtype, answer, ttl, count, as_json
        )
        for stamp, name, (rrtype, answer), ttl, count, as_json in rows
    ]
    options = ParserOptions(sensor_id=sensor, extra={"fields": "SMcsCQTAtn"})
    assert_promise_kept("gamelinux", options, sane + odd + odd)


def test_gamelinux_edges_keep_the_promise() -> None:
    """Every record learnt, then again with each edge value in its time, TTL and count: each a promise checked."""
    sane = {"when": 1597501603, "ttl": 60, "count": 1}
    lines = [_gamelinux_line(1597501603, "Example.COM.", t, a, 60, 1, j) for t, a in _RECORDS for j in (False, True)]
    for field in sane:
        for edge in _EDGES:
            n = {**sane, field: edge}
            for (rrtype, answer), as_json in itertools.product(_RECORDS, (False, True)):
                lines.append(_gamelinux_line(n["when"], "Example.COM.", rrtype, answer, n["ttl"], n["count"], as_json))
    assert assert_promise_kept("gamelinux", ParserOptions(extra={"fields": "SMcsCQTAtn"}), lines) > 100


def test_zeek_edges_keep_the_promise() -> None:
    """Zeek rows learnt as logged, then again with each edge value as their time and as each of their TTLs."""
    sample = GOLDEN / "zeek" / "wrccdc2018_dns_subset.log"
    lines = sample.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    header = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    ts, ttls = header.index("ts"), header.index("TTLs")
    rows = [line.split("\t") for line in lines if not line.startswith("#")][:300]
    edited = []
    for edge in _EDGES:
        for row in rows:
            when = [*row[:ts], f"{edge}.5", *row[ts + 1 :]]
            count = len(row[ttls].split(",")) if row[ttls] not in ("-", "(empty)") else 0
            ttl = [*row[:ttls], ",".join([f"{edge}.0"] * count) or row[ttls], *row[ttls + 1 :]]
            edited += ["\t".join(when), "\t".join(ttl)]
    promised = assert_promise_kept("zeek", ParserOptions(), lines + edited)
    assert promised > len(rows)


def test_sysmon_edges_keep_the_promise() -> None:
    """Sysmon events learnt as logged, then again at the edges of the time range (and with bad times)."""
    sample = GOLDEN / "sysmon" / "otrf_security_datasets_sysmon22.ndjson"
    lines = sample.read_text().splitlines()
    edges = ["1969-12-31 23:59:59.000", "1970-01-01 00:00:00.000", "2106-02-07 06:28:15.000",
             "2106-02-07 06:28:16.000", "9999-12-31 23:59:59.999", "2020-06-10 02:61:08.943", "bogus"]  # fmt: skip
    stamped = [line for line in lines if re.search(r'"UtcTime":"[^"]*"', line)]
    edited = [re.sub(r'"UtcTime":"[^"]*"', f'"UtcTime":"{edge}"', line) for edge in edges for line in stamped]
    assert len(stamped) > 40
    assert assert_promise_kept("sysmon", ParserOptions(), lines + edited) > len(lines)


def test_zeek_remembered_rows_follow_header_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A TSV row is remembered by its fields as read; after a ``#`` line the same text may mean something else."""
    sample = GOLDEN / "zeek" / "wrccdc2018_dns_subset.log"
    lines = sample.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    rows = [line for line in lines if not line.startswith("#")][:200]
    header = [line for line in lines if line.startswith("#")]
    changed = ["#set_separator\t;", "#unset_field\tF", "#empty_field\t-", "#set_separator\t,", "#unset_field\t-"]
    stream = header + rows + [line for change in changed for line in (change, *rows)]
    remembered, _, _ = _run("zeek", ParserOptions(), stream, promise=True)
    monkeypatch.setattr(zeek, "_PLAN_LIMIT", 0)  # nothing remembered: every row read afresh
    fresh, _, _ = _run("zeek", ParserOptions(), stream, promise=True)
    assert remembered == fresh


def test_zeek_json_edges_keep_the_promise() -> None:
    """Zeek JSON rows learnt as logged, then again with each edge value as their ``ts`` (a number, ISO 8601 or
    epoch text) and as their TTLs."""
    sample = GOLDEN / "zeek" / "wrccdc2018_dns_subset_json-streaming.ndjson"
    rows = [json.loads(line) for line in sample.read_text().splitlines()[:300]]
    stamps = ["1969-12-31T23:59:59Z", "2106-02-07T06:28:15Z", "2106-02-07T06:28:16Z", "4294967296.5"]
    edited = [json.dumps({**row, "ts": stamp}) for stamp in stamps for row in rows]
    for edge in _EDGES:
        for row in rows:
            edited.append(json.dumps({**row, "ts": edge + 0.5}))
            if row.get("TTLs"):
                edited.append(json.dumps({**row, "TTLs": [float(edge)] * len(row["TTLs"])}))
    lines = [json.dumps(row) for row in rows]
    assert assert_promise_kept("zeek", ParserOptions(), lines + edited) > len(rows)
