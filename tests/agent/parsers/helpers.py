"""Running a format's parser over lines the way the agent does (through ``ParseRun``)."""

from __future__ import annotations

from collections.abc import Iterable

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.wire import to_wire


def parse(fmt: str, lines: Iterable[str], **options: object) -> tuple[list[dict[str, object]], ParseRun]:
    """The normalized wire objects produced from ``lines``, and the run (for its stats)."""
    run = ParseRun(registry.parser_class(fmt)(ParserOptions(**options) if options else None))  # type: ignore[arg-type]
    return [to_wire(o) for o in run.lines(lines)], run


def keys(produced: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """(rrname, rrtype, rdata, rcode) of each observation, for compact assertions."""
    return [(o["rrname"], o["rrtype"], tuple(o.get("rdata", ())), o.get("rcode")) for o in produced]  # type: ignore[arg-type]
