"""The three ways sandbox DNS reaches YAPDNS agree: report.json backfill, DNSDump v2 file, direct post."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec
import pytest

from tests.integrations.cuckoo.conftest import Framework, real_report
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsers.cuckoo_report import CuckooReportParser
from yapdns.agent.parsers.dnsdump2 import DnsDump2Parser
from yapdns.agent.parsing import ParseRun
from yapdns.core.batch import decode_ndjson
from yapdns.core.model import Observation

TASKS = [7, 8, 9, 10]


def _unsourced(observations: list[Observation]) -> list[Observation]:
    return [msgspec.structs.replace(o, source=None) for o in observations]


@pytest.mark.parametrize("task", TASKS)
def test_backfill_and_dnsdump2_file_give_the_same_observations(framework: Framework, tmp_path: Path, task: int) -> None:
    framework.run(real_report(task), tmp_path / "a", {"id": task}, output_dir=str(tmp_path / "o"))
    (written,) = (tmp_path / "o").glob("*.dnsdump2.tsv")
    from_file = list(ParseRun(DnsDump2Parser()).lines(written.read_text().splitlines()))
    from_report = list(ParseRun(CuckooReportParser()).document(msgspec.json.encode(real_report(task))))
    assert from_file and _unsourced(from_file) == _unsourced(from_report)


@pytest.mark.parametrize("task", TASKS)
def test_direct_post_batches_carry_the_same_observations(framework: Framework, tmp_path: Path, task: int) -> None:
    module = framework.module
    options = module.read_options({}, str(tmp_path / "reports"))
    rows, _ = module.dns_rows(real_report(task), {"id": task}, options)
    posted = []
    for _, body in module.batches(rows, "prefix"):
        decoded = decode_ndjson(gzip.decompress(body))
        assert not decoded.rejects
        posted += decoded.observations
    lines = [module.format_line(r) for r in rows]
    parsed = list(ParseRun(DnsDump2Parser()).lines(line.rstrip("\n") for line in lines))
    assert posted == parsed


def test_batch_ids_are_stable_and_split_large_analyses(framework: Framework) -> None:
    module = framework.module
    row = ("1.0", "packet", "1", None, "a.example", "A", "query", None, None, None)
    first = [batch_id for batch_id, _ in module.batches([row] * (module.BATCH_SIZE + 1), "cuckoo-h-task1-0")]
    again = [batch_id for batch_id, _ in module.batches([row] * (module.BATCH_SIZE + 1), "cuckoo-h-task1-0")]
    assert first == again == ["cuckoo-h-task1-0-0", "cuckoo-h-task1-0-1"]


def test_odd_entries_are_read_alike(framework: Framework, tmp_path: Path) -> None:
    report = {
        "info": {"id": 4, "started": "2024-05-01 10:00:00"},
        "target": {"category": "file", "file": {"sha256": "cd" * 32}},
        "network": {"dns": [
            {"request": "t.example", "type": ["A"], "answers": "junk", "first_seen": 1.7e9},
            {"request": "far.example", "type": "A", "answers": [{"type": "A", "data": "192.0.2.1"}], "first_seen": 1e12},
            {"request": "odd.example", "type": "MX", "answers": [{"type": 15, "data": "mx"}, {"type": "MX", "data": "m"}]},
            {"request": "soa.example", "type": "SOA", "answers": [{"type": "SOA", "data": "a,b,1,2,3,4,5"}]},
            {"request": "x\\y.example", "type": "NS", "answers": [{"type": "NS", "data": "ns(1).example"}]},
        ]},
    }
    framework.run(report, tmp_path / "a", {"id": 4}, output_dir=str(tmp_path / "o"), started_timezone="utc")
    (written,) = (tmp_path / "o").glob("*.dnsdump2.tsv")
    from_file = list(ParseRun(DnsDump2Parser()).lines(written.read_text().splitlines()))
    parser = CuckooReportParser(ParserOptions(timezone="UTC"))
    from_report = list(ParseRun(parser).document(msgspec.json.encode(report)))
    assert len(from_file) == 5 and _unsourced(from_file) == _unsourced(from_report)  # 7 lines, 2 partial
