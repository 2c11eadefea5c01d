"""Every format survives hostile input: binary junk, bad UTF-8, huge lines, odd separators.

A parser may refuse such a line (counted by ``ParseRun`` under a reason code)
but must never crash: a crash is counted as ``parser_crash``, which fails here.
"""

from __future__ import annotations

import random

import pytest

from tests.agent.parsers.helpers import run_lines as parse
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser
from yapdns.agent.parsing import ParseRun

_OPTIONS: dict[str, dict[str, object]] = {"regex": {"extra": {"preset": "nginx-upstream"}}}


def _hostile_lines() -> list[str]:
    rng = random.Random(20261127)
    junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(200)]
    lines = [b.decode("utf-8", "surrogateescape") for b in junk]
    lines += [
        "\x00" * 50,
        "{" * 5000,
        '{"dns": {"type": "answer", "answers": [' + "1," * 3000 + "]}}",
        '{"event_type":"dns","timestamp":"x","dns":{"type":"answer","answers":[{"rrname":7}]}}',
        '{"query": "\udcff.example", "type": "A", "answer": "1.2.3.4", "timestamp_s": 1}',
        '{"event_type":"dns","timestamp":"2019-08-22T23:48:27+0000","dns":{"type":"answer","rrname":"\udcc3"}}',
        '{"ts": 1.5, "query": "\udcc3\udca9", "answers": ["\udcff"]}',
        "1521911720.0\tC\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t1\t-\ta.example\t1\tC_INTERNET\t1\tA\t0\tNOERROR"
        "\tF\tF\tT\tT\t0\t192.0.2.1,192.0.2.2\tnan,inf\tF",
        '{"ts": 1e300, "query": "a.example", "answers": ["192.0.2.1"], "TTLs": [1e300]}',
        "#fields\tts\tquery",
        "1\t2\t3",
        "||||||||||||||||",
        "Nov 27 12:23:26 dnsmasq[1]: 1 127.0.0.1/1 reply \udcff\udcfe is 1.2.3.4",
        "Feb 30 12:00:00 dnsmasq[1]: reply x is 1.2.3.4",
        "x" * 70_000,
        "1494364058.429337||10.16.1.11||8.8.8.8||IN||g\udce9.com.||A||216.197.242.244||299||-1",
        "9999999999999999999.1||a||b||IN||x.||A||1.2.3.4||1||1",
    ]
    return lines


_LINE_FORMATS = [f for f in registry.available() if not issubclass(registry.parser_class(f), DocumentParser)]
_DOCUMENT_FORMATS = [f for f in registry.available() if f not in _LINE_FORMATS]


@pytest.mark.parametrize("fmt", _LINE_FORMATS)
def test_hostile_input_is_refused_or_skipped_never_crashes(fmt: str) -> None:
    lines = _hostile_lines()
    produced, run = parse(fmt, lines, **_OPTIONS.get(fmt, {}))
    assert run.stats.lines == len(lines)
    assert "parser_crash" not in run.stats.errors, list(run.stats.samples)
    assert run.stats.errors["line_too_long"] == 1
    for obs in produced:  # whatever got through is normalized, valid data
        assert obs["rrname"] and obs["rrtype"]


@pytest.mark.parametrize("fmt", _DOCUMENT_FORMATS)
def test_hostile_documents_are_refused_never_crash(fmt: str) -> None:
    documents = [line.encode("utf-8", "surrogateescape") for line in _hostile_lines()]
    documents += [b"", b"\xff\xfe\x00{", b'{"network": {"dns": [{"request": 5}]}}', b"[" * 100_000]
    for data in documents:
        run = ParseRun(registry.parser_class(fmt)())
        produced = list(run.document(data))
        assert "parser_crash" not in run.stats.errors, (data[:80], list(run.stats.samples))
        assert all(obs.rrname and obs.rrtype for obs in produced)
