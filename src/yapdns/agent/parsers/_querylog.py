"""What query-only server logs can say, and pairing their question and answer lines.

BIND's querylog, unbound's log-queries/log-replies, CoreDNS's log plugin and
PowerDNS Recursor's ``quiet=no`` logs name the question (and sometimes the
rcode) but never the answer RRs. They yield one observation per question:
a negative observation when the log states a negative rcode (NXDOMAIN,
SERVFAIL, REFUSED...), otherwise a bare query (empty rdata, no rcode).
Never rdata: these logs do not carry it.

``PendingQuestions`` pairs a question line with its later answer line when a
server logs both (unbound with log-queries and log-replies, PowerDNS
Recursor), so that one question is counted once. A question whose answer
line never comes (unbound does not log the reply of a SERVFAIL) is released
as a bare query after ``window`` seconds of log time, when too many are
pending, or at ``flush()``. When ``solo_after`` questions came and no answer
line paired with any, the log has no answer lines (unbound with
log-queries only): questions are then released at once. When the log goes
quiet (``flush_idle``) the waiting questions are released too: an answer
line that comes later stands alone. ``save()``/``load()`` carry the waiting
questions and the pairing mode across an agent restart.

``QueryLogParser`` is what the four parsers share: their clock, year guess
and pending questions, the stamp at the start of a line (syslog or ISO 8601),
and the pairing of an answer line with its question.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import msgspec

from yapdns.agent.parsers._logtime import WallClock, YearGuess, iso_length, iso_stamp, syslog_stamp
from yapdns.agent.parsers.base import LineParser, ParserOptions
from yapdns.core.model import Evidence, Observation

NOERROR = "NOERROR"


def question(rrname: str, rrtype: str, when: int, source: str, rcode: str | None = None) -> Observation:
    """One question: negative if ``rcode`` is a negative rcode, else a bare query."""
    return Observation(
        rrname=rrname,
        rrtype=rrtype,
        time_first=when,
        time_last=when,
        rcode=None if rcode == NOERROR else rcode,
        source=source,
        evidence=Evidence.DIRECT,
    )


class PendingQuestions:
    """Questions waiting for their answer line, in arrival order."""

    def __init__(self, window: int = 120, limit: int = 100_000, solo_after: int = 64) -> None:
        self.window = window
        self.limit = limit
        self.solo_after = solo_after
        self._pending: OrderedDict[tuple[str, ...], deque[Observation]] = OrderedDict()
        self._size = 0
        self._asked = 0
        self.answered = False  # set once an answer line paired with a question

    def ask(self, key: tuple[str, ...], obs: Observation) -> Iterator[Observation]:
        """Hold ``obs`` until its answer; release the questions that waited too long."""
        self._asked += 1
        if not self.answered and self._asked > self.solo_after:
            yield from self.drain()
            yield obs
            return
        yield from self._expire(obs.time_first)
        self._pending.setdefault(key, deque()).append(obs)
        self._size += 1

    def answer(self, key: tuple[str, ...], rcode: str | None) -> Observation | None:
        """The question ``key`` answered with ``rcode``, or ``None`` if it was not seen."""
        waiting = self._pending.get(key)
        if not waiting:
            return None
        obs = waiting.popleft()
        self._size -= 1
        if not waiting:
            del self._pending[key]
        self.answered = True
        if rcode is None or rcode == NOERROR:
            return obs
        return Observation(
            rrname=obs.rrname,
            rrtype=obs.rrtype,
            time_first=obs.time_first,
            time_last=obs.time_last,
            rcode=rcode,
            source=obs.source,
            evidence=obs.evidence,
        )

    def drain(self) -> Iterator[Observation]:
        """Every question still waiting, as bare queries."""
        for waiting in self._pending.values():
            yield from waiting
        self._pending.clear()
        self._size = 0

    def save(self) -> Any:
        """The waiting questions and the pairing mode, JSON-able (``None`` before the first question)."""
        if not self._asked:
            return None
        pending = [[list(key), list(waiting)] for key, waiting in self._pending.items()]
        return {"asked": min(self._asked, self.solo_after + 1), "answered": self.answered, "pending": pending}

    def load(self, state: Any) -> None:
        """Continue from ``save()``."""
        self._asked, self.answered = int(state["asked"]), bool(state["answered"])
        self._pending = OrderedDict(
            (tuple(key), deque(msgspec.convert(obs, Observation) for obs in waiting))
            for key, waiting in state["pending"]
        )
        self._size = sum(len(waiting) for waiting in self._pending.values())

    def _expire(self, now: int) -> Iterator[Observation]:
        while self._pending:
            key, waiting = next(iter(self._pending.items()))
            if self._size < self.limit and waiting[0].time_first >= now - self.window:
                return
            yield waiting.popleft()
            self._size -= 1
            if not waiting:
                del self._pending[key]
            else:
                self._pending.move_to_end(key)


class QueryLogParser(LineParser):
    """The base of the query-only server log parsers: evidence, clock, year guess, question pairing."""

    evidence = Evidence.DIRECT
    syslog_start: ClassVar[re.Pattern[str]] = re.compile(r"[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2}", re.ASCII)

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.clock = WallClock(self.options.timezone)
        self.years = YearGuess(self.options)
        self.pending = PendingQuestions()

    def flush(self) -> Iterator[Observation]:
        return self.pending.drain()

    def flush_idle(self) -> Iterator[Observation]:
        return self.pending.drain()

    def save_state(self) -> Any:
        return self.pending.save()

    def load_state(self, state: Any) -> None:
        self.pending.load(state)

    def question(self, rrname: str, rrtype: str, when: int, rcode: str | None = None) -> Observation:
        return question(rrname, rrtype, when, self.name, rcode)

    def answered(
        self, key: tuple[str, ...], rrname: str, rrtype: str, rcode: str | None, when: Callable[[], int]
    ) -> Observation:
        """The question ``key`` answered with ``rcode``; an answer line whose question was not seen stands alone
        (dated by ``when()``, read only then)."""
        paired = self.pending.answer(key, rcode)
        return paired if paired is not None else self.question(rrname, rrtype, when(), rcode)

    def leading_stamp(self, text: str) -> int | None:
        """The syslog (``Mon DD HH:MM:SS``) or ISO 8601 stamp that starts ``text``, or ``None`` if none does."""
        if iso_length(text):  # the two forms exclude each other: ISO starts with a digit, syslog with a month
            return iso_stamp(text, self.clock)
        if self.syslog_start.match(text):
            return syslog_stamp(text, self.clock, self.years)
        return None
