"""agent.badlines and ParseRun: which lines are set aside, in what form, how the files are bounded and kept private."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from yapdns.agent.badlines import BadLineEntry, BadLinesFile, bad_lines_path, read_entries, rotated
from yapdns.agent.parsers.base import LineParser, ParseError, ParserOptions
from yapdns.agent.parsers.regex import RegexParser
from yapdns.agent.parsing import ParseRun, ParseStats
from yapdns.core.model import Observation

PATTERN = r"(?P<time>\d+) host=(?P<rrname>\S+) addr=(?P<rdata>\S+)"


def _run(tmp_path: Path, parser: LineParser | None = None) -> tuple[ParseRun, BadLinesFile]:
    stats = ParseStats()
    stats.bad_lines = BadLinesFile(tmp_path, "web")
    stats.origin = "/var/log/web.log"
    return ParseRun(parser or RegexParser(ParserOptions(extra={"pattern": PATTERN})), stats), stats.bad_lines


def _entries(tmp_path: Path) -> list[BadLineEntry]:
    return [e for e in read_entries(bad_lines_path(tmp_path, "web")) if e is not None]


def test_a_line_the_parser_refuses_is_kept_whole_with_its_place_and_reason(tmp_path: Path) -> None:
    run, sink = _run(tmp_path)
    assert run.line("1700000000 host=www.example.com addr=192.0.2.1", 1)
    assert run.line("1700000001 name=www.example.com ip=192.0.2.2", 2) == []
    (entry,) = _entries(tmp_path)
    assert (entry.input, entry.file, entry.line_no, entry.code) == ("web", "/var/log/web.log", 2, "no_match")
    assert entry.text() == "1700000001 name=www.example.com ip=192.0.2.2" and entry.line_b64 is None
    assert run.stats.as_dict()["set_aside"] == {"file": str(sink.path), "kept": 1, "dropped": 0}
    mode = stat.S_IMODE(sink.path.stat().st_mode), stat.S_IMODE(sink.path.parent.stat().st_mode)
    assert mode == (0o600, 0o700)


def test_a_line_whose_observations_the_normalizer_rejects_is_kept(tmp_path: Path) -> None:
    run, _ = _run(tmp_path)
    assert run.line("1700000000 host=bad..name addr=192.0.2.1", 7) == []
    (entry,) = _entries(tmp_path)
    assert entry.line_no == 7 and entry.code == "bad_name"


def test_bytes_that_are_not_utf8_are_kept_exactly(tmp_path: Path) -> None:
    run, _ = _run(tmp_path)
    line = b"1700000000 h\xf4te=caf\xe9\xff.example addr=192.0.2.1".decode("utf-8", "surrogateescape")
    run.line(line, 3)
    (entry,) = _entries(tmp_path)
    assert entry.line is None and entry.line_b64 is not None and entry.text() == line


class _Pairs(LineParser):
    """A test parser: each line ``name rdata...`` gives one A observation per rdata."""

    name, evidence, timezone, description = "pairs", "direct", "UTC", "test"  # type: ignore[assignment]

    def parse_line(self, line: str) -> Iterator[Observation]:
        name, *rdatas = line.split()
        if name == "boom":
            raise ParseError("boom", code="boom")
        for rdata in rdatas:
            yield Observation(rrname=name, rrtype="A", rdata=(rdata,), time_first=1, time_last=1)


def test_a_line_of_which_something_was_used_is_counted_not_kept(tmp_path: Path) -> None:
    run, _ = _run(tmp_path, _Pairs())
    assert len(run.line("www.example.com 192.0.2.1 999.1.1.1", 1)) == 1  # replaying it would count 192.0.2.1 twice
    assert run.stats.errors["bad_rdata"] == 1 and not bad_lines_path(tmp_path, "web").exists()
    run.line("www.example.com 999.1.1.1 999.1.1.2", 2)
    run.line("boom", 3)
    assert [(e.line_no, e.code) for e in _entries(tmp_path)] == [(2, "bad_rdata"), (3, "boom")]


def test_without_a_file_nothing_is_written(tmp_path: Path) -> None:
    run = ParseRun(RegexParser(ParserOptions(extra={"pattern": PATTERN})))
    run.line("no match here", 1)
    assert run.stats.errors["no_match"] == 1 and "set_aside" not in run.stats.as_dict()
    assert not list(tmp_path.iterdir())


def test_the_files_are_bounded_by_rotation(tmp_path: Path) -> None:
    sink = BadLinesFile(tmp_path, "web", max_bytes=4096)
    for i in range(200):
        sink.add("/var/log/web.log", i, "no_match", "the line does not match the pattern", f"junk line {i:04d}")
    current, older = sink.path, rotated(sink.path)
    assert current.stat().st_size <= 4096 and older.stat().st_size <= 4096
    assert [p.name for p in sorted(tmp_path.joinpath("bad").iterdir())] == ["web.ndjson", "web.ndjson.1"]
    kept = [e.line_no for p in (older, current) for e in read_entries(p) if e is not None]
    assert kept == list(range(200 - len(kept), 200))  # the newest, in order
    assert sink.kept == 200 and sink.dropped == 200 - len(kept)
    assert stat.S_IMODE(older.stat().st_mode) == 0o600


def test_a_torn_last_entry_reads_as_unreadable(tmp_path: Path) -> None:
    sink = BadLinesFile(tmp_path, "web")
    sink.add("f", 1, "c", "m", "line one")
    sink.close()
    with sink.path.open("ab") as fh:
        fh.write(b'{"v": 1, "time": 1.0, "inp')
    assert [e.text() if e else None for e in read_entries(sink.path)] == ["line one", None]


@pytest.mark.parametrize("max_bytes", [1, 100])
def test_an_entry_larger_than_the_bound_still_fits_alone(tmp_path: Path, max_bytes: int) -> None:
    sink = BadLinesFile(tmp_path, "web", max_bytes=max_bytes)
    for i in range(3):
        sink.add("f", i, "c", "m", "x" * 500)
    assert [e.line_no for e in read_entries(sink.path) if e] == [2]
