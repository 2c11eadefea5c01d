"""The parser contract every format module follows.

A ``LineParser`` turns one log line into zero or more observations; it may
keep per-file state (a Zeek ``#fields`` header, a multi-line record) and
emits what it still holds from ``flush()``. A ``DocumentParser`` reads a
whole file (a sandbox ``report.json``, an API export). Parsers:

* use the log's own timestamp and document the timezone they assume;
* never invent rdata a line does not carry (a question-only line yields a
  bare-query observation with empty ``rdata``);
* infer A or AAAA from the address family where the type is implicit;
* set ``evidence`` and ``source``;
* raise ``ParseError`` for a line they cannot read. The runner counts it,
  keeps a sample and goes on; a parser never has to catch its own errors.
  Observations yielded before the error (a multi-line record completed by
  the bad line) are kept.

A line parser that keeps anything between ``parse_line`` calls (held
observations, a partial record, or context learned from earlier lines: a
query's type, a detected layout, a learned date order) says so through
three methods, so that the agent never loses or doubles a line across a
restart (docs/agent.md, "Guarantees"):

* ``save_state()`` returns all of it as JSON-able data (``None``: nothing).
  The agent stores it with the file offset, in the same spool commit.
  It must be a fresh value that later parsing does not mutate;
* ``load_state(state)`` continues, in a new instance, exactly where the
  instance that saved ``state`` stood: the lines after the offset then give
  what they would have given without the restart;
* ``flush_idle()`` is called when the log has gone quiet: it yields what is
  held only because a later line might still add to it (a reply's last
  RRset, questions waiting for their answer line), but keeps incomplete
  records and context, unlike ``flush()`` at the end of the input.

``state_version`` is bumped whenever the shape of the saved state changes;
a saved state of another version is not loaded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from yapdns.core.errors import YapdnsError
from yapdns.core.importkey import ParserOptions
from yapdns.core.model import Evidence, Observation

__all__ = ["DocumentParser", "LineParser", "ParseError", "Parser", "ParserOptions"]


class ParseError(YapdnsError):
    """The line does not match the format."""

    code = "parse_error"

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class _ParserInfo:
    name: ClassVar[str]
    evidence: ClassVar[Evidence]
    timezone: ClassVar[str]  # the timezone assumption, as documented to users
    description: ClassVar[str]

    def __init__(self, options: ParserOptions | None = None) -> None:
        self.options = options or ParserOptions()


class LineParser(_ParserInfo, ABC):
    """A format read one line at a time."""

    state_version: ClassVar[int] = 1

    @abstractmethod
    def parse_line(self, line: str) -> Iterable[Observation]:
        """Observations carried by ``line`` (without its line terminator).

        A generator or a list: hot parsers return a list, which costs less than a generator.
        """

    def flush(self) -> Iterable[Observation]:
        """Observations still held back (multi-line records) at end of input."""
        return iter(())

    def flush_idle(self) -> Iterable[Observation]:
        """The log went quiet: what is held only in case a later line adds to it (incomplete records stay)."""
        return iter(())

    def save_state(self) -> Any:
        """JSON-able state that later lines depend on (``None``: the parser carries nothing between lines)."""
        return None

    def load_state(self, state: Any) -> None:
        """Continue from ``save_state()`` of an instance of the same format, options and ``state_version``."""


class DocumentParser(_ParserInfo, ABC):
    """A format read as a whole document.

    A document of many records (a STIX bundle, a MISP event) rejects a bad
    record alone: ``reject()`` keeps its error, the runner counts it once
    the document is read, and the other records go on.
    """

    def __init__(self, options: ParserOptions | None = None) -> None:
        super().__init__(options)
        self.rejects: list[ParseError] = []

    def reject(self, message: str, code: str) -> None:
        """Count one record of the document as unusable (the rest of the document is kept)."""
        self.rejects.append(ParseError(message[:300], code))

    @abstractmethod
    def parse_document(self, data: bytes) -> Iterator[Observation]:
        """Observations carried by the whole document."""


Parser = LineParser | DocumentParser
