"""Comparing what a wire input extracted with what dig printed for the same queries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from tests.agent.inputs import dnsservers as ds
from yapdns.core import rrtypes
from yapdns.core.model import Observation
from yapdns.core.names import normalize_name
from yapdns.core.rdata import normalize_rdata

RR = tuple[str, str, str]


def rrs_of(observations: Iterable[Observation]) -> set[RR]:
    """Every positive RR the observations carry, as ``(owner, type, rdata)``."""
    return {(o.rrname, o.rrtype, r) for o in observations for r in o.rdata}


def negatives_of(observations: Iterable[Observation]) -> set[tuple[str, str, str]]:
    return {(o.rrname, o.rrtype, o.rcode or "") for o in observations if not o.rdata}


def normalized_dig(output: str) -> set[RR]:
    """dig's answer section in canonical form (the normalizer is the reference both sides share)."""
    out = set()
    for owner, rrtype, rdata in ds.dig_answers(output):
        code = rrtypes.rrtype_code(rrtype)
        out.add((normalize_name(owner), rrtypes.rrtype_text(code), normalize_rdata(code, rdata)))
    return out


def expected_from_dig(queries: list[tuple[str, str, str]], query: Callable[[str, str, str], str]) -> tuple[
    set[RR], set[tuple[str, str, str]]
]:
    """Run each ``(name, type, dig flag)`` query; the RRs dig printed and the negative answers it reported.

    A negative answer is expected at the end of dig's CNAME chain (or at the name itself).
    """
    rrs: set[RR] = set()
    negatives: set[tuple[str, str, str]] = set()
    for name, rrtype, flag in queries:
        output = query(name, rrtype, flag)
        answers = normalized_dig(output)
        rrs |= answers
        status = ds.dig_status(output)
        chain_end = _chain_end(normalize_name(name), answers)
        has_type = any(owner == chain_end and t == rrtype for owner, t, _ in answers)
        if status != "NOERROR":
            negatives.add((chain_end, rrtype, status))
        elif not has_type:
            negatives.add((chain_end, rrtype, "NODATA"))
    return rrs, negatives


def _chain_end(name: str, answers: set[RR]) -> str:
    targets = {owner: rdata for owner, t, rdata in answers if t == "CNAME"}
    for _ in range(16):
        if name not in targets:
            break
        name = targets[name]
    return name


class Collector:
    """Runs an input in a thread and collects what it emits."""

    def __init__(self, run: Callable[[Callable[[list[Observation]], None], threading.Event], None]) -> None:
        self.observations: list[Observation] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=run, args=(self._emit, self.stop), daemon=True)

    def _emit(self, batch: list[Observation]) -> None:
        with self._lock:
            self.observations.extend(batch)

    def __enter__(self) -> Collector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()

    def wait_for(self, predicate: Callable[[list[Observation]], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self.observations):
                    return
            time.sleep(0.05)
