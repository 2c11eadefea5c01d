"""A parser's saved state, loaded into a new instance, continues exactly: every line format, cut at every line.

This is what the agent relies on across a restart (docs/agent.md,
"Guarantees"): the state a parser saved with a file offset, once through
JSON, makes the lines after the offset give exactly what they would have
given without the restart. Checked on every golden sample of every line
format and on the multi-pass logs of ``tests/agent/held_lines.py``, at
every line (a stride on long samples). The saved value must not change
while the parser goes on (the agent encodes it later, at its commit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.agent.held_lines import BY_NAME, CASES, Case, kind_totals
from tests.agent.parsers.test_golden import _samples
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import LineParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation

MAX_CUTS = 60


def _line_samples() -> list[Path]:
    return [s for s in _samples() if issubclass(registry.parser_class(s.parent.name), LineParser)]


def _agent_lines(sample: Path) -> list[str]:
    lines = sample.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [raw.removesuffix(b"\r").decode("utf-8", "surrogateescape") for raw in lines]


def _options(sample: Path) -> ParserOptions:
    path = sample.with_name(sample.name + ".options.json")
    return ParserOptions(**(msgspec.json.decode(path.read_bytes()) if path.exists() else {}))


def _cuts(n: int) -> list[int]:
    if n + 1 <= MAX_CUTS:
        return list(range(n + 1))
    return sorted({round(i * n / (MAX_CUTS - 1)) for i in range(MAX_CUTS)})


def assert_resumes_exactly(fmt: str, options: ParserOptions, lines: list[str]) -> int:
    """Cut ``lines`` everywhere; return how many cuts had a state to carry."""
    cls = registry.parser_class(fmt)
    run = ParseRun(cls(options))
    assert isinstance(run.parser, LineParser)
    cuts = set(_cuts(len(lines)))
    whole: list[Observation] = []
    saved: list[tuple[int, int, Any, bytes]] = []  # (cut, observations before it, state, state as JSON)
    for i in range(len(lines) + 1):
        if i in cuts:
            state = run.parser.save_state()
            saved.append((i, len(whole), state, msgspec.json.encode(state)))
        if i < len(lines):
            whole += run.line(lines[i], i + 1)
    whole += run.flush()
    carried = 0
    for cut, before, state, encoded in saved:
        assert msgspec.json.encode(state) == encoded, f"{fmt}: save_state() shares data the parser kept changing"
        after = cls(options)
        if state is not None:
            carried += 1
            after.load_state(msgspec.json.decode(encoded))
        tail = list(ParseRun(after).lines(lines[cut:]))
        assert whole[:before] + tail == whole, f"{fmt}: resuming after line {cut} differs"
    return carried


@pytest.mark.parametrize("sample", _line_samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_golden_sample_resumes_exactly_after_every_line(sample: Path) -> None:
    assert_resumes_exactly(sample.parent.name, _options(sample), _agent_lines(sample))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_replayed_logs_resume_exactly_after_every_line(case: Case) -> None:
    lines = [line.rstrip("\n") for line in case.log(passes=2)]
    carried = assert_resumes_exactly(case.fmt, case.parser_options(), lines)
    if case.fmt not in ("bind_query", "coredns"):  # the two that keep nothing between lines
        assert carried > 0, f"{case.name}: no cut had a state to carry; the case does not test what it should"
    else:
        assert carried == 0


def _held_then_idle(case: Case, cut: int) -> tuple[list[Observation], list[Observation], LineParser]:
    run = ParseRun(registry.parser_class(case.fmt)(case.parser_options()))
    read = [obs for line in case.lines[:cut] for obs in run.line(line)]
    assert isinstance(run.parser, LineParser)
    return read, run.flush_idle(), run.parser


@pytest.mark.parametrize("name", ["dnsmasq", "dnsmasq-extra", "unbound", "unbound-queries-only", "msdns",
                                  "pdns_recursor"])  # fmt: skip
def test_a_quiet_log_releases_what_waits_for_a_later_line(name: str) -> None:
    """After ``flush_idle`` the lines read so far have given everything ``flush`` at their end would give."""
    case = BY_NAME[name]
    cut = next(
        (n for n in range(len(case.lines), 0, -1) if _held_then_idle(case, n)[1]), None
    )  # the last line after which something waits for a later line
    assert cut is not None, f"{name}: nothing is ever held"
    read, released, parser = _held_then_idle(case, cut)
    ended = ParseRun(registry.parser_class(case.fmt)(case.parser_options()))
    assert kind_totals(read + released) == kind_totals(ended.lines(case.lines[:cut]))
    assert list(parser.flush_idle()) == []  # released once


@pytest.mark.parametrize(("name", "opening"), [("dnsdb", "{"), ("sysmon", "<Event")])
def test_a_quiet_log_keeps_a_partial_record_for_its_end(name: str, opening: str) -> None:
    case = BY_NAME[name]
    start = next(i for i, line in enumerate(case.lines) if line.startswith(opening) and not line.endswith("}"))
    read, released, parser = _held_then_idle(case, start + 2)
    assert released == [] and parser.save_state() is not None  # the object's first lines wait
    run = ParseRun(parser)
    rest = [obs for line in case.lines[start + 2 :] for obs in run.line(line)] + run.flush()
    whole = ParseRun(registry.parser_class(case.fmt)(case.parser_options())).lines(case.lines)
    assert read + rest == list(whole)
