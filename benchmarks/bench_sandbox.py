"""Throughput of the sandbox paths: reporting module rows, DNSDump v2 parsing, report.json backfill.

A large analysis is built from the real CAPEv2 wikipedia report by repeating its DNS entries under distinct
names (as a DGA sample or a crawler would produce). Prints entries/s and observations/s for each stage.
Run: .venv/bin/python benchmarks/bench_sandbox.py [entries]
"""

from __future__ import annotations

import copy
import importlib.util
import json
import platform
import sys
import tempfile
import time
import types
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yapdns.agent.parsers.cuckoo_report import CuckooReportParser  # noqa: E402
from yapdns.agent.parsers.dnsdump2 import DnsDump2Parser  # noqa: E402
from yapdns.agent.parsing import ParseRun  # noqa: E402

REPORT = ROOT / "tests/agent/parsers/golden/cuckoo_report/capev2_task7_wikipedia.report.json"


def load_module() -> types.ModuleType:
    """The reporting module with a stand-in ``lib.cuckoo.common.abstracts.Report``."""
    for name in ("lib", "lib.cuckoo", "lib.cuckoo.common"):
        sys.modules.setdefault(name, types.ModuleType(name))
    abstracts = types.ModuleType("lib.cuckoo.common.abstracts")
    abstracts.Report = object  # type: ignore[attr-defined]
    sys.modules["lib.cuckoo.common.abstracts"] = abstracts
    spec = importlib.util.spec_from_file_location("yapdns_reporting", ROOT / "integrations/cuckoo/yapdns.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def big_report(entries: int) -> dict[str, object]:
    report = json.loads(REPORT.read_text())
    base = report["network"]["dns"]
    dns = []
    for i in range(entries):
        entry = copy.deepcopy(base[i % len(base)])
        entry["request"] = f"n{i}.{entry['request']}"
        dns.append(entry)
    report["network"]["dns"] = dns
    return report


def timed(label: str, count: int, unit: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<38} {count:>9,} {unit} in {elapsed:6.2f} s = {count / elapsed:>10,.0f} {unit}/s")
    return result


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    module = load_module()
    report = big_report(entries)
    options = module.read_options({}, tempfile.gettempdir())
    rows, _ = timed("module: network.dns -> rows", entries, "entries", lambda: module.dns_rows(report, {}, options))
    lines = timed("module: rows -> DNSDump v2 lines", len(rows), "lines", lambda: [module.format_line(r) for r in rows])
    timed("module: rows -> gzipped batches", len(rows), "rows", lambda: list(module.batches(rows, "bench")))
    text = [line.rstrip("\n") for line in lines]
    observations = timed("parser dnsdump2 (+ normalize)", len(text), "lines",
                         lambda: list(ParseRun(DnsDump2Parser()).lines(text)))
    data = msgspec.json.encode(report)
    timed("parser cuckoo_report (+ normalize)", entries, "entries",
          lambda: list(ParseRun(CuckooReportParser()).document(data)))
    print(f"observations per analysis: {len(observations):,}")


if __name__ == "__main__":
    main()
