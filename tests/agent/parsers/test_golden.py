"""One parametrized golden test over every parser and every real sample.

Layout: ``golden/<format>/<sample>`` is an input file written by real
software (its ``PROVENANCE.txt`` says where it comes from);
``<sample>.golden.ndjson`` is the reviewed output: every observation the
parser produced (normalized wire form), then one final ``{"stats": ...}``
line with the line/error counters. ``<sample>.options.json`` optionally holds
``ParserOptions`` (e.g. a timezone or year).

To (re)write goldens after a reviewed change:
``YAPDNS_REGEN_GOLDEN=1 pytest tests/agent/parsers/test_golden.py`` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.batch import to_wire

GOLDEN = Path(__file__).parent / "golden"
_SKIP_SUFFIXES = (".golden.ndjson", ".options.json")


def _samples() -> list[Path]:
    return sorted(
        p
        for p in GOLDEN.glob("*/*")
        if p.is_file() and p.name != "PROVENANCE.txt" and not p.name.endswith(_SKIP_SUFFIXES)
    )


def run_parser(fmt: str, sample: Path) -> list[dict[str, object]]:
    """Parse ``sample`` with format ``fmt``: the observations, then the stats line."""
    opts_path = sample.with_name(sample.name + ".options.json")
    options = msgspec.convert(json.loads(opts_path.read_text()), ParserOptions) if opts_path.exists() else None
    run = ParseRun(registry.parser_class(fmt)(options))
    if isinstance(run.parser, DocumentParser):
        observations = list(run.document(sample.read_bytes()))
    else:
        lines = sample.read_bytes().decode("utf-8", "surrogateescape").splitlines()
        observations = list(run.lines(lines))
    stats = run.stats.as_dict()
    stats.pop("bad_line_samples")
    return [*(to_wire(o) for o in observations), {"stats": stats}]


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parser_matches_golden(sample: Path) -> None:
    produced = run_parser(sample.parent.name, sample)
    golden = sample.with_name(sample.name + ".golden.ndjson")
    text = "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in produced)
    if os.environ.get("YAPDNS_REGEN_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden for {sample}; review the output and regenerate"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", registry.available())
def test_every_format_has_a_real_sample_with_provenance(fmt: str) -> None:
    folder = GOLDEN / fmt
    assert (folder / "PROVENANCE.txt").exists(), f"{fmt}: add real samples and PROVENANCE.txt under {folder}"
    assert any(p.parent.name == fmt for p in _samples()), f"{fmt}: no sample file"


@pytest.mark.parametrize("fmt", registry.available())
def test_parser_declares_its_contract(fmt: str) -> None:
    cls = registry.parser_class(fmt)
    assert cls.name == fmt
    assert cls.timezone and cls.description
    assert cls.evidence is not None
