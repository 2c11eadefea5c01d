"""Running a parser safely: counting, sampling bad lines, normalizing.

``ParseRun`` is the one place that calls parsers, for the agent, for
``yapdns import`` and for the golden tests. Whatever a parser raises on a
line is counted under a reason code, the first few bad lines are kept as
samples, and the run goes on. Every observation leaving here is normalized;
one that fails normalization is counted as a reject, never shipped. With a
``BadLinesFile`` on its stats (the agent gives each input one), a line of
which nothing was used is also set aside whole, for replay (``badlines``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import msgspec

from yapdns.agent.parsers.base import DocumentParser, LineParser, ParseError, Parser
from yapdns.core.canonical import NormalizeMemo
from yapdns.core.errors import InvalidObservation
from yapdns.core.model import Observation

if TYPE_CHECKING:
    from yapdns.agent.badlines import BadLinesFile

MAX_LINE = 64 * 1024
SAMPLES_KEPT = 20


class BadLine(msgspec.Struct, frozen=True):
    """A sample of input that could not be used."""

    line_no: int
    code: str
    message: str
    text: str
    origin: str = ""  # the file (or other source) the line came from


class ParseStats:
    """Counters of one input: lines, observations, errors per reason, samples of bad lines."""

    def __init__(self) -> None:
        self.lines = 0
        self.bytes = 0  # bytes of the lines or documents read (filled by the reader; not in ``as_dict``)
        self.observations = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.samples: collections.deque[BadLine] = collections.deque(maxlen=SAMPLES_KEPT)
        self.origin = ""  # the file being parsed now (set by its reader), named in samples
        self.bad_lines: BadLinesFile | None = None  # where lines of which nothing was used are set aside

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def bad(self, line_no: int, code: str, message: str, text: str, origin: str | None = None) -> None:
        self.errors[code] += 1
        where = self.origin if origin is None else origin
        self.samples.append(BadLine(line_no, code, _printable(message[:300]), _printable(text[:300]), where))

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "observations": self.observations,
            "errors": dict(self.errors),
            "bad_line_samples": [msgspec.structs.asdict(s) for s in self.samples],
            **({"set_aside": self.bad_lines.as_dict()} if self.bad_lines is not None else {}),
        }


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates) shown as ``\\xNN`` so that samples encode as JSON."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that did not come from undecodable bytes
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


class ParseRun:
    """Feed lines (or a document) through one parser instance."""

    def __init__(self, parser: Parser, stats: ParseStats | None = None) -> None:
        self.parser = parser
        self.stats = stats or ParseStats()
        self._sensor = parser.options.sensor_id
        self._normalize = NormalizeMemo().normalize  # normalize_observation, cheaper for records seen before

    def prime(self, lines: Iterable[str]) -> None:
        """Feed header lines read again on resume (e.g. Zeek ``#fields``): parser state only.

        Nothing is counted and nothing is yielded: these lines were parsed
        and counted before the restart; the parser only needs to see them.
        """
        assert isinstance(self.parser, LineParser)
        for line in lines:
            try:
                for _ in self.parser.parse_line(line):
                    pass
            except Exception:  # noqa: S112  (a header the parser rejects was counted the first time)
                continue

    def lines(self, lines: Iterable[str], first_line_no: int = 1) -> Iterator[Observation]:
        """Parse each line; then flush what the parser still holds. Equal to ``line`` on each line, with the
        common case (a line whose observations are all accepted) kept in this loop."""
        assert isinstance(self.parser, LineParser)
        parse, stats, normalize, line = self.parser.parse_line, self.stats, self._normalize, self.line
        sensor, replace = self._sensor, msgspec.structs.replace
        for line_no, text in enumerate(lines, start=first_line_no):
            if len(text) > MAX_LINE:
                yield from line(text, line_no)
                continue
            stats.lines += 1
            produced: list[Observation] = []
            try:  # += keeps what a parser yielded before it raised, as line() does
                produced += parse(text)
            except ParseError as exc:
                keep = self._set_aside(line_no, exc.code, str(exc), text)
                yield from self._normalized(produced, line_no, text, keep) if produced else ()
                continue
            except Exception as exc:
                keep = self._set_aside(line_no, "parser_crash", f"{type(exc).__name__}: {exc}", text)
                yield from self._normalized(produced, line_no, text, keep) if produced else ()
                continue
            if sensor:
                produced = [o if o.sensor_id is not None else replace(o, sensor_id=sensor) for o in produced]
            try:
                out = [normalize(o) for o in produced]
            except Exception:
                yield from self._normalized(produced, line_no, text, True)
                continue
            stats.observations += len(out)
            yield from out
        yield from self.flush()

    def line(self, line: str, line_no: int = 0) -> list[Observation]:
        """Parse one line (without terminator); never raises."""
        assert isinstance(self.parser, LineParser)
        self.stats.lines += 1
        if len(line) > MAX_LINE:
            self.stats.bad(line_no, "line_too_long", f"line of {len(line)} characters", line)
            return []
        produced: list[Observation] = []
        keep = True  # set the line aside if all it produced is rejected (not when it raised: that did already)
        try:  # extend() keeps what a parser yielded before it raised (a record finished by a bad line)
            produced.extend(self.parser.parse_line(line))
        except ParseError as exc:
            keep = self._set_aside(line_no, exc.code, str(exc), line)
        except Exception as exc:  # a parser bug must not stop the input
            keep = self._set_aside(line_no, "parser_crash", f"{type(exc).__name__}: {exc}", line)
        return self._normalized(produced, line_no, line, keep) if produced else produced

    def _set_aside(self, line_no: int, code: str, message: str, line: str) -> bool:
        """Count a line of which nothing was used, and keep it whole for replay when the input keeps bad lines."""
        self.stats.bad(line_no, code, message, line)
        if self.stats.bad_lines is not None:
            self.stats.bad_lines.add(self.stats.origin, line_no, code, message, line)
        return False

    def flush(self) -> list[Observation]:
        """Observations held back by a multi-line parser, at the end of the input."""
        if not isinstance(self.parser, LineParser):
            return []
        return self._held(self.parser.flush, "at end of input")

    def flush_idle(self) -> list[Observation]:
        """What the parser holds only in case a later line adds to it, released because the log went quiet."""
        if not isinstance(self.parser, LineParser):
            return []
        return self._held(self.parser.flush_idle, "when the log went quiet")

    def _held(self, release: Callable[[], Iterable[Observation]], when: str) -> list[Observation]:
        produced: list[Observation] = []
        try:
            produced.extend(release())
        except ParseError as exc:  # e.g. the input ended inside a multi-line record
            self.stats.bad(0, exc.code, f"{when}: {exc}", "")
        except Exception as exc:
            self.stats.bad(0, "parser_crash", f"{when}: {type(exc).__name__}: {exc}", "")
        return self._normalized(produced, 0, "")

    def document(self, data: bytes) -> list[Observation]:
        """Parse a whole document; never raises."""
        assert isinstance(self.parser, DocumentParser)
        self.stats.lines += 1
        try:
            produced = list(self.parser.parse_document(data))
        except ParseError as exc:
            self.stats.bad(1, exc.code, str(exc), data[:300].decode("utf-8", "replace"))
            return []
        except Exception as exc:
            self.stats.bad(1, "parser_crash", f"{type(exc).__name__}: {exc}", data[:300].decode("utf-8", "replace"))
            return []
        finally:
            for rejected in self.parser.rejects:  # records the parser refused alone
                self.stats.bad(1, rejected.code, str(rejected), "")
            self.parser.rejects.clear()
        return self._normalized(produced, 1, "")

    def _normalized(
        self, produced: list[Observation], line_no: int, line: str, keep: bool = False
    ) -> list[Observation]:
        if not self._sensor:  # the common case: all accepted (else the loop below counts each reject)
            try:
                out = [self._normalize(o) for o in produced]
            except Exception:  # noqa: S110
                pass
            else:
                self.stats.observations += len(out)
                return out
        out = []
        rejected: InvalidObservation | None = None
        for raw in produced:
            obs = raw
            if self._sensor and obs.sensor_id is None:
                obs = msgspec.structs.replace(obs, sensor_id=self._sensor)
            try:
                out.append(self._normalize(obs))
            except InvalidObservation as exc:
                self.stats.bad(line_no, exc.code, str(exc), line)
                rejected = rejected or exc
            except Exception as exc:  # a value of the wrong type from a parser bug: counted, never fatal
                self.stats.bad(line_no, "invalid", f"{type(exc).__name__}: {exc}", line)
                rejected = rejected or InvalidObservation(f"{type(exc).__name__}: {exc}")
        if keep and rejected is not None and not out and self.stats.bad_lines is not None:
            self.stats.bad_lines.add(self.stats.origin, line_no, rejected.code, str(rejected), line)
        self.stats.observations += len(out)
        return out
