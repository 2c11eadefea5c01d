"""Parser throughput: every registered format over its golden samples, replicated to ~N lines.

For each sample: parse-only (``parser.parse_line`` for every line, observations
consumed) and through ``ParseRun`` (the same plus counting and normalization,
as the agent runs it). Prints lines and observations per CPU-second
(``time.process_time``, best of ``--repeat`` runs, so that other load on a
shared machine counts as little as possible), one process on one core.
Replicating a sample makes every cache hot: the figures hold for repetitive
traffic (which DNS logs are) and are upper bounds for all-distinct input.

    python benchmarks/parsers.py [--lines 200000] [--format zeek] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import msgspec

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, LineParser, ParserOptions
from yapdns.agent.parsing import ParseRun

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "agent" / "parsers" / "golden"
_SKIP = (".golden.ndjson", ".options.json")


def samples(fmt: str) -> list[Path]:
    folder = GOLDEN / fmt
    return sorted(p for p in folder.glob("*") if p.name != "PROVENANCE.txt" and not p.name.endswith(_SKIP))


def options_for(sample: Path) -> ParserOptions | None:
    path = sample.with_name(sample.name + ".options.json")
    return msgspec.convert(json.loads(path.read_text()), ParserOptions) if path.exists() else None


def replicate(sample: Path, target: int) -> list[str]:
    lines = sample.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    return lines * max(1, target // max(1, len(lines)))


def parse_only(cls: type[LineParser], options: ParserOptions | None, lines: list[str]) -> tuple[float, int]:
    parser = cls(options)
    produced = 0
    start = time.process_time()
    for line in lines:
        try:
            produced += len(list(parser.parse_line(line)))
        except Exception:  # bad lines count as read, as in ParseRun
            continue
    produced += len(list(parser.flush()))
    return time.process_time() - start, produced


def with_run(cls: type[LineParser], options: ParserOptions | None, lines: list[str]) -> tuple[float, int]:
    run = ParseRun(cls(options))
    start = time.process_time()
    produced = sum(1 for _ in run.lines(lines))
    return time.process_time() - start, produced


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--lines", type=int, default=200_000)
    cli.add_argument("--format", action="append", help="only these formats (repeatable)")
    cli.add_argument("--repeat", type=int, default=3, help="runs per measure; the fastest is kept")
    args = cli.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{platform.processor() or 'cpu'}; ~{args.lines} lines per sample, one core")  # fmt: skip
    header = f"{'format/sample':58} {'lines':>8} {'parse lines/s':>14} {'obs/s':>10} {'+run lines/s':>13} {'obs/s':>10}"
    print(header)
    for fmt in args.format or registry.available():
        cls = registry.parser_class(fmt)
        if issubclass(cls, DocumentParser):
            continue
        for sample in samples(fmt):
            options = options_for(sample)
            lines = replicate(sample, args.lines)
            t1, n1 = min(parse_only(cls, options, lines) for _ in range(args.repeat))
            t2, n2 = min(with_run(cls, options, lines) for _ in range(args.repeat))
            name = f"{fmt}/{sample.name}"[:58]
            print(f"{name:58} {len(lines):>8} {len(lines) / t1:>14,.0f} {n1 / t1:>10,.0f} "
                  f"{len(lines) / t2:>13,.0f} {n2 / t2:>10,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
