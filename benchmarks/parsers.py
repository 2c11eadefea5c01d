"""Parser throughput: every registered format over its golden samples, replicated to ~N lines.

For each sample of a line format: parse-only (``parser.parse_line`` for every
line, observations consumed) and through ``ParseRun`` (the same plus counting,
bad-line sampling and normalization, as the agent and ``yapdns import`` run
it). Document formats (sandbox reports, API exports) are read whole, through
``ParseRun``, ``--lines / 100`` times. Figures are lines (documents) and
observations per CPU-second of this process (``time.process_time``, best of
``--repeat`` runs, so that other load on a shared machine counts as little as
possible), one core. Replicating a sample keeps every cache hot: the figures
hold for repetitive traffic (which DNS logs are) and are upper bounds for
all-distinct input.

The header states the machine: CPU model, load average before and after, and
``python_loop_ns``, the CPU time of one iteration of a trivial Python loop
(a calibration: compare figures of two runs only together with it).

    python benchmarks/parsers.py [--lines 200000] [--repeat 3] [--format zeek ...]

For instruction counts, which do not move with the machine's load: ``--instructions N --format F --sample I``
warms one run on 2,000 lines of sample I of format F, then runs ``ParseRun`` once over N lines and prints
nothing; run it under ``valgrind --tool=cachegrind --cache-sim=no`` with N and with 0, and divide the
difference by N.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import msgspec

import yapdns
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


def documents(cls: type[DocumentParser], data: bytes, copies: int) -> tuple[float, int]:
    run = ParseRun(cls(None))
    start = time.process_time()
    produced = sum(1 for _ in range(copies) for _ in run.document(data))
    return time.process_time() - start, produced


def instructions_run(fmt: str, index: int, count: int) -> None:
    """Warm a run on 2,000 lines, then parse ``count`` lines once (nothing printed: cachegrind counts)."""
    cls = registry.parser_class(fmt)
    assert issubclass(cls, LineParser)
    sample = samples(fmt)[index]
    lines = replicate(sample, max(count, 2000))
    with_run(cls, options_for(sample), lines[:2000])
    if count:
        with_run(cls, options_for(sample), lines[:count])


def python_loop_ns(n: int = 2_000_000) -> float:
    """CPU nanoseconds of one ``for`` iteration adding to a local: how fast this core runs Python now."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(n):
            total += i
        best = min(best, time.process_time() - start)
    return best * 1e9 / n


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for row in out.splitlines():
        key, _, value = row.partition(":")
        if key.strip() == "Model name":
            return value.strip()
    return platform.processor() or platform.machine()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    cli = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    cli.add_argument("--lines", type=int, default=200_000)
    cli.add_argument("--format", action="append", help="only these formats (repeatable)")
    cli.add_argument("--repeat", type=int, default=3, help="runs per measure; the fastest is kept")
    cli.add_argument("--instructions", type=int, metavar="N", help="one run over N lines, for cachegrind")
    cli.add_argument("--sample", type=int, default=0, help="with --instructions: the sample's index")
    args = cli.parse_args()
    if args.instructions is not None:
        instructions_run(args.format[0] if args.format else "gamelinux", args.sample, args.instructions)
        return
    print(f"# {platform.python_implementation()} {platform.python_version()}, msgspec {msgspec.__version__}, "
          f"yapdns from {Path(yapdns.__file__).parent}")  # fmt: skip
    print(f"# CPU {cpu_model()} x{os.cpu_count()}; load average {load()}; python_loop_ns {python_loop_ns():.1f}")
    print(f"# ~{args.lines} lines per sample, one core, CPU time, best of {args.repeat}")
    print(f"{'format/sample':58} {'lines':>8} {'parse lines/s':>14} {'obs/s':>10} {'+run lines/s':>13} {'obs/s':>10}")
    for fmt in args.format or registry.available():
        cls = registry.parser_class(fmt)
        for sample in samples(fmt):
            name = f"{fmt}/{sample.name}"[:58]
            if issubclass(cls, DocumentParser):
                data = sample.read_bytes()
                copies = max(1, args.lines // 100)
                t, n = min(documents(cls, data, copies) for _ in range(args.repeat))
                print(f"{name:58} {copies:>8} {'(documents)':>14} {'':>10} {copies / t:>13,.0f} {n / t:>10,.0f}")
                continue
            options = options_for(sample)
            lines = replicate(sample, args.lines)
            t1, n1 = min(parse_only(cls, options, lines) for _ in range(args.repeat))
            t2, n2 = min(with_run(cls, options, lines) for _ in range(args.repeat))
            print(f"{name:58} {len(lines):>8} {len(lines) / t1:>14,.0f} {n1 / t1:>10,.0f} "
                  f"{len(lines) / t2:>13,.0f} {n2 / t2:>10,.0f}", flush=True)  # fmt: skip
    print(f"# load average at the end {load()}; python_loop_ns {python_loop_ns():.1f}")


if __name__ == "__main__":
    main()
