"""Numbers in logs are ASCII digits only (issue 13): ``str.isdigit()`` and ``int()`` also take Unicode digits
('٣' is 3 to them), so a line whose numbers are written in another script must be a counted reject, never an
observation with numbers read from it."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from tests.agent.parsers.test_golden import _samples
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Logs that mix other messages with queries: a line not shaped like a query is passed over, not an error.
SKIP_FOREIGN_LINES = {"bind_query", "coredns"}
LINE_SAMPLES = [p for p in _samples() if not issubclass(registry.parser_class(p.parent.name), DocumentParser)]


def options(sample: Path) -> ParserOptions | None:
    path = sample.with_name(sample.name + ".options.json")
    return msgspec.convert(json.loads(path.read_text()), ParserOptions) if path.exists() else None


@pytest.mark.parametrize("sample", LINE_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_numbers_in_another_script_are_counted_rejects(sample: Path) -> None:
    lines = sample.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    run = ParseRun(registry.parser_class(sample.parent.name)(options(sample)))
    produced = list(run.lines([line.translate(ARABIC_INDIC) for line in lines]))
    assert produced == [], produced[:3]
    if sample.parent.name not in SKIP_FOREIGN_LINES:
        assert sum(run.stats.as_dict()["errors"].values()) > 0
