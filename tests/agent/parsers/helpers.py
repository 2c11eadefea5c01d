"""Helpers shared by the parser unit tests: run a format over lines the way the agent does."""

from __future__ import annotations

from pathlib import Path

from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.batch import to_wire

GOLDEN = Path(__file__).parent / "golden"


def run_lines(fmt: str, lines: list[str], **options: object) -> tuple[list[dict[str, object]], ParseRun]:
    """Parse ``lines`` with format ``fmt`` through ``ParseRun``: wire-form observations and the run."""
    run = ParseRun(registry.parser_class(fmt)(ParserOptions(**options)))  # type: ignore[arg-type]
    if isinstance(run.parser, DocumentParser):
        produced = list(run.document("\n".join(lines).encode("utf-8", "surrogateescape")))
    else:
        produced = list(run.lines(lines))
    return [to_wire(o) for o in produced], run


def keys(produced: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """(rrname, rrtype, rdata, rcode) of each observation, for compact assertions."""
    return [(o["rrname"], o["rrtype"], tuple(o.get("rdata", ())), o.get("rcode")) for o in produced]  # type: ignore[arg-type]
