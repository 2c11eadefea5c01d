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
from yapdns.core.windows import Windows, combine

GOLDEN = Path(__file__).parent / "parsers" / "golden"
COF_SAMPLE = GOLDEN / "cof" / "pdns-qof-server_README.ndjson"
COF_LINES = [line + "\n" for line in COF_SAMPLE.read_text().splitlines() if line.strip()]

Key = tuple[str, str, str]
Total = tuple[Windows, int]  # the record's traffic and zone-file windows, and its count
Totals = dict[Key, Total]


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
    """Per RR: (windows, count), aggregated the way the store does (``core.windows.combine``)."""
    out: Totals = {}
    for obs in observations:
        for rdata in obs.rdata:
            key = (obs.rrname, obs.rrtype, rdata)
            seen = out.get(key)
            windows = Windows.of(obs) if seen is None else combine(seen[0], Windows.of(obs))
            out[key] = (windows, obs.count + (seen[1] if seen else 0))
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
