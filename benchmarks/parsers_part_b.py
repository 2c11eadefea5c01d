"""Throughput of the part-B parsers over their golden samples, replicated to ~N lines.

A stop-gap until the shared ``benchmarks/parsers.py`` is on main (it measures every
format the same way; this script then goes). For each sample: parse-only
(``parser.parse_line`` for every line, observations consumed) and through
``ParseRun`` (plus counting and normalization, as the agent runs it). Figures are
lines and observations per CPU-second (``time.process_time``, best of ``--repeat``),
one process on one core. Replicated samples keep every cache hot: upper bounds
for all-distinct input, close to real for repetitive DNS traffic.

    python benchmarks/parsers_part_b.py [--lines 200000] [--format sysmon] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import msgspec

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, LineParser, ParseError, ParserOptions
from yapdns.agent.parsing import ParseRun

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "agent" / "parsers" / "golden"
FORMATS = ["sysmon", "squid", "bind_query", "unbound", "pdns_recursor", "coredns", "msdns", "dnsdb", "virustotal"]
_SKIP = (".golden.ndjson", ".options.json")


def samples(fmt: str) -> list[Path]:
    return sorted(p for p in (GOLDEN / fmt).glob("*") if p.name != "PROVENANCE.txt" and not p.name.endswith(_SKIP))


def options_for(sample: Path) -> ParserOptions | None:
    path = sample.with_name(sample.name + ".options.json")
    return msgspec.convert(json.loads(path.read_text()), ParserOptions) if path.exists() else None


def parse_only(cls: type[LineParser], options: ParserOptions | None, lines: list[str]) -> tuple[float, int]:
    parser = cls(options)
    produced = 0
    start = time.process_time()
    for line in lines:
        try:
            for _ in parser.parse_line(line):
                produced += 1
        except ParseError:
            continue
    produced += sum(1 for _ in parser.flush())
    return time.process_time() - start, produced


def with_run(cls: type[LineParser], options: ParserOptions | None, lines: list[str]) -> tuple[float, int]:
    run = ParseRun(cls(options))
    start = time.process_time()
    produced = sum(1 for _ in run.lines(lines))
    return time.process_time() - start, produced


def document(cls: type[DocumentParser], data: bytes, copies: int) -> tuple[float, int]:
    run = ParseRun(cls(None))
    start = time.process_time()
    produced = sum(1 for _ in range(copies) for _ in run.document(data))
    return time.process_time() - start, produced


def main() -> None:
    cli = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    cli.add_argument("--lines", type=int, default=200_000)
    cli.add_argument("--format", action="append", help="only these formats (repeatable)")
    cli.add_argument("--repeat", type=int, default=3, help="runs per measure; the fastest is kept")
    args = cli.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()} on {platform.machine()}; "
          f"~{args.lines} lines per sample, one core, CPU time")  # fmt: skip
    print(f"{'format/sample':60} {'lines':>8} {'parse lines/s':>14} {'obs/s':>10} {'+run lines/s':>13} {'obs/s':>10}")
    for fmt in args.format or FORMATS:
        cls = registry.parser_class(fmt)
        for sample in samples(fmt):
            name = f"{fmt}/{sample.name}"[:60]
            if issubclass(cls, DocumentParser):
                data = sample.read_bytes()
                copies = max(1, args.lines // 100)
                t, n = min(document(cls, data, copies) for _ in range(args.repeat))
                print(f"{name:60} {copies:>8} {'(documents)':>14} {'':>10} {copies / t:>13,.0f} {n / t:>10,.0f}")
                continue
            assert issubclass(cls, LineParser)
            options = options_for(sample)
            base = sample.read_bytes().decode("utf-8", "surrogateescape").splitlines()
            lines = base * max(1, args.lines // max(1, len(base)))
            t1, n1 = min(parse_only(cls, options, lines) for _ in range(args.repeat))
            t2, n2 = min(with_run(cls, options, lines) for _ in range(args.repeat))
            print(f"{name:60} {len(lines):>8} {len(lines) / t1:>14,.0f} {n1 / t1:>10,.0f} "
                  f"{len(lines) / t2:>13,.0f} {n2 / t2:>10,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
