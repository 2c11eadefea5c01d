"""What the agent tests share: real sample lines, their exact expected totals, waiting for a condition."""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from yapdns.agent.parsers import registry
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation

GOLDEN = Path(__file__).parent / "parsers" / "golden"
COF_SAMPLE = GOLDEN / "cof" / "pdns-qof-server_README.ndjson"
COF_LINES = [line + "\n" for line in COF_SAMPLE.read_text().splitlines() if line.strip()]

Key = tuple[str, str, str]
Totals = dict[Key, tuple[int, int, int]]


def cof_line(n: int) -> str:
    """The ``n``-th line of an endless replay of the real COF export.

    Each pass over the export moves ``time_last`` one second later, so that
    no two lines (and no two stretches of a log) are byte-for-byte the same,
    as in a real log where every line carries its own time.
    """
    record = json.loads(COF_LINES[n % len(COF_LINES)])
    record["time_last"] += n // len(COF_LINES)
    return json.dumps(record) + "\n"


def totals(observations: Iterable[Observation]) -> Totals:
    """Per RR: (time_first, time_last, count), aggregated the way the store does."""
    out: dict[Key, tuple[int, int, int]] = {}
    for obs in observations:
        for rdata in obs.rdata:
            key = (obs.rrname, obs.rrtype, rdata)
            first, last, count = out.get(key, (obs.time_first, obs.time_last, 0))
            out[key] = (min(first, obs.time_first), max(last, obs.time_last), count + obs.count)
    return out


def expected_totals(lines: Iterable[str], fmt: str = "cof") -> Totals:
    """The exact totals of ``lines`` as the format's parser reads them."""
    run = ParseRun(registry.parser_class(fmt)())
    return totals(run.lines(line.rstrip("\n") for line in lines))


def multiset(observations: Iterable[Observation]) -> collections.Counter[tuple[str, tuple[str, ...], int]]:
    return collections.Counter((o.rrname, o.rdata, o.count) for o in observations)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
