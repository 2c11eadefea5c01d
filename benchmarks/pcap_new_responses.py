"""The cost of a response never seen before: decode, templates, layout, first fold (``AnswerLayouts.learn``).

    python benchmarks/pcap_new_responses.py /tmp/dns-1m.pcap [--repeat 5] [--limit N] [--calls FILE]

It runs the pcap input over the file once, keeps every message the C loop hands to ``learn`` (with its walk), then
replays them on fresh state (new builder and layouts, the normalizer's caches cleared) ``--repeat`` times, and
prints the CPU microseconds per new response. On a shared machine the CPU time still moves by tens of percent;
for a figure that does not, count instructions instead (valgrind, *not* run by the test suite). ``--calls FILE``
keeps the recorded messages (written the first time, read after), so that valgrind needs not run the capture:

    python benchmarks/pcap_new_responses.py FILE --calls /tmp/new.calls --repeat 1
    valgrind --tool=cachegrind --cache-sim=no python benchmarks/pcap_new_responses.py FILE --calls /tmp/new.calls \
        --repeat 1 --limit 20000

and subtract the same run with ``--limit 0``: the difference over 20,000 is the instructions per new response.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import resource
import threading
from pathlib import Path

from yapdns.agent.inputs.pcap import PcapFileInput, PcapFileOptions
from yapdns.agent.parsing import ParseStats
from yapdns.agent.wire import answers
from yapdns.agent.wire.observations import ObservationBuilder
from yapdns.core import names, normalize
from yapdns.gcpause import freeze_startup_objects

Call = tuple[bytes, int, answers.Walked | None]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def record(path: str) -> list[Call]:
    """Every (message, second, walk) the C loop hands to ``AnswerLayouts.learn`` in one pass over ``path``."""
    calls: list[Call] = []
    learn = answers.AnswerLayouts.learn

    def spy(self: answers.AnswerLayouts, msg: bytes, sec: int, walked: answers.Walked | None) -> None:
        calls.append((bytes(msg), sec, walked))
        learn(self, msg, sec, walked)

    answers.AnswerLayouts.learn = spy  # type: ignore[method-assign]
    try:
        PcapFileInput("bench", PcapFileOptions(paths=[path])).run(lambda _: None, threading.Event(), once=True)
    finally:
        answers.AnswerLayouts.learn = learn  # type: ignore[method-assign]
    return calls


def replay(calls: list[Call]) -> float:
    """CPU seconds to learn ``calls`` on fresh state, as the first pass over a capture does."""
    names.normalize_name.cache_clear()
    normalize._normalize_small_rrset.cache_clear()
    answers._masks.clear()
    answers._readers.clear()
    stats = ParseStats()
    layouts = answers.AnswerLayouts(ObservationBuilder("pcap", stats, "bench"), stats)
    gc.disable()  # as per batch in the pcap input (gcpause)
    start = cpu()
    for msg, sec, walked in calls:
        layouts.learn(msg, sec, walked)
    spent = cpu() - start
    gc.enable()
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="replay only the first N new responses")
    ap.add_argument("--calls", type=Path, help="recorded messages: written if absent, else read")
    args = ap.parse_args()
    if args.calls and args.calls.exists():
        calls = pickle.loads(args.calls.read_bytes())  # a file this script wrote
    else:
        calls = record(args.pcap)
        if args.calls:
            args.calls.write_bytes(pickle.dumps(calls))
    calls = calls[: args.limit]
    freeze_startup_objects()
    spent = [replay(calls) for _ in range(args.repeat)]
    if calls and spent:
        per = sorted(s / len(calls) * 1e6 for s in spent)
        print(f"{len(calls):,} new responses; CPU µs each: min {per[0]:.1f}, median {per[len(per) // 2]:.1f}")


if __name__ == "__main__":
    main()
