"""The log input on real files: complete lines only, rotation and truncation by identity, resume, bad lines."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.held_lines import BY_NAME, CASES, Case, kind_totals, write_lines
from tests.agent.helpers import COF_LINES, GOLDEN, cof_line, expected_totals, totals, wait_for
from yapdns.agent.config import config_from_dict
from yapdns.agent.inputs.log import LogInput
from yapdns.agent.parsers import registry
from yapdns.agent.parsing import ParseRun
from yapdns.agent.positions import Checkpoint, decode_checkpoint, encode_checkpoint
from yapdns.core.model import Observation

FAST = {"scan_frequency": "50ms", "backoff": "10ms", "close_rotated": "300ms", "close_inactive": "5s"}


class Collector:
    """Stands where the pipeline stands: receives emits, takes the snapshot inside each one."""

    def __init__(self, agent_input: LogInput) -> None:
        self.input = agent_input
        self.observations: list[Observation] = []
        self.snapshot: Any = None
        self.lock = threading.Lock()

    def __call__(self, observations: list[Observation]) -> None:
        with self.lock:
            self.observations.extend(observations)
            self.snapshot = self.input.snapshot()


def make_input(tmp_path: Path, pattern: str, **settings: object) -> LogInput:
    doc = {
        "output": {"url": "http://127.0.0.1:1", "token": "t"},
        "inputs": [{"format": "cof", "paths": [pattern], **FAST, **settings}],  # settings may set another format
    }
    [cfg] = config_from_dict(doc, base_dir=tmp_path).inputs
    agent_input = LogInput.from_config(cfg)
    assert isinstance(agent_input, LogInput)
    return agent_input


class Running:
    def __init__(self, agent_input: LogInput, once: bool = False) -> None:
        self.input = agent_input
        self.collector = Collector(agent_input)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=agent_input.run, args=(self.collector, self.stop, once), daemon=True)
        self.thread.start()

    def halt(self) -> Any:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.collector.snapshot

    def totals(self) -> object:
        with self.collector.lock:
            return totals(self.collector.observations)


@pytest.fixture
def logdir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs"
    path.mkdir()
    yield path


def append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_a_half_written_line_waits_for_its_newline(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "export.ndjson"
    log.write_text(COF_LINES[0] + COF_LINES[1][:40])
    running = Running(make_input(tmp_path, str(log)))
    wait_for(lambda: running.input.stats.lines == 1, what="the complete line")
    assert running.totals() == expected_totals(COF_LINES[:1])
    append(log, COF_LINES[1][40:])
    wait_for(lambda: running.input.stats.lines == 2, what="the completed line")
    snapshot = running.halt()
    assert running.totals() == expected_totals(COF_LINES[:2])
    [state] = snapshot.values()
    assert state[6] == log.stat().st_size  # the offset field: at the end of the last complete line


def test_once_reads_a_last_line_without_newline(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "export.ndjson"
    log.write_text("".join(COF_LINES).rstrip("\n"))
    running = Running(make_input(tmp_path, str(log)), once=True)
    running.thread.join(10)
    assert running.totals() == expected_totals(COF_LINES)


def test_rename_rotation_reads_the_old_file_to_its_end_and_the_new_one_from_the_start(
    tmp_path: Path, logdir: Path
) -> None:
    log = logdir / "query.log"
    written = [cof_line(i) for i in range(20)]
    log.write_text("".join(written[:10]))
    running = Running(make_input(tmp_path, str(log)))  # the rotated name is NOT watched
    wait_for(lambda: running.input.stats.lines == 10)
    with log.open("a") as old:
        log.rename(logdir / "query.log.1")
        old.write("".join(written[10:15]))  # the daemon still writes to its old descriptor
    (logdir / "query.log").write_text("".join(written[15:]))
    wait_for(lambda: running.input.stats.lines == 20, what="both files")
    wait_for(lambda: len(running.input.prospector.harvesters) == 1, what="the rotated file closed")
    running.halt()
    assert running.totals() == expected_totals(written)


def test_copytruncate_reads_each_line_once(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "query.log"
    written = [cof_line(i) for i in range(40)]
    log.write_text("".join(written[:20]))
    running = Running(make_input(tmp_path, str(logdir / "query.log*")))
    wait_for(lambda: running.input.stats.lines == 20)
    append(log, "".join(written[20:30]))  # not read yet when logrotate copies ...
    shutil.copyfile(log, logdir / "query.log.1")
    os.truncate(log, 0)  # ... and truncates
    append(log, "".join(written[30:]))
    wait_for(lambda: running.input.stats.lines == 40, what="every line")
    running.halt()
    assert running.input.stats.lines == 40
    assert running.totals() == expected_totals(written)


def test_truncation_in_place_starts_over_even_when_the_file_regrew(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "query.log"
    log.write_text("".join(COF_LINES[:3]))
    running = Running(make_input(tmp_path, str(log)))
    wait_for(lambda: running.input.stats.lines == 3)
    regrown = COF_LINES[3:] * 2  # longer than before: only the changed first bytes tell
    with log.open("w") as fh:
        fh.write("".join(regrown))
    wait_for(lambda: running.input.stats.lines == 3 + len(regrown), what="the rewritten file")
    running.halt()
    assert running.totals() == expected_totals(COF_LINES[:3] + regrown)


def test_resume_from_a_snapshot_reads_only_new_lines(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "query.log"
    log.write_text("".join(COF_LINES[:5]))
    first = Running(make_input(tmp_path, str(log)))
    wait_for(lambda: first.input.stats.lines == 5)
    snapshot = first.halt()
    append(log, "".join(COF_LINES[5:]))
    resumed_input = make_input(tmp_path, str(log))
    resumed_input.restore(snapshot)
    second = Running(resumed_input)
    wait_for(lambda: second.input.stats.lines == len(COF_LINES) - 5)
    second.halt()
    assert second.totals() == expected_totals(COF_LINES[5:])


def test_hostile_lines_are_counted_and_skipped(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "hostile.ndjson"
    huge = b'{"rrname": "' + b"a" * (3 << 20) + b'"}\n'
    bad_utf8 = b'{"rrname":"caf\xe9\xff.example","rrtype":"A","rdata":"192.0.2.1","time_first":1,"time_last":2}\n'
    binary = bytes(b for b in range(256) if b != 0x0A) + b"\n"
    log.write_bytes(COF_LINES[0].encode() + huge + bad_utf8 + binary + b"\x00" * 5000 + b"\n" + COF_LINES[1].encode())
    agent_input = make_input(tmp_path, str(log))
    running = Running(agent_input, once=True)
    running.thread.join(20)
    assert running.totals() == expected_totals(COF_LINES[:2])
    stats = agent_input.stats
    assert stats.lines == 6 and stats.observations == 2
    assert stats.errors["line_too_long"] == 1 and stats.error_count == 4
    assert {s.origin for s in stats.samples} == {str(log)}
    assert agent_input.prospector.harvesters == {}


def test_an_over_long_line_is_never_held_whole(tmp_path: Path, logdir: Path) -> None:
    log = logdir / "big.ndjson"
    log.write_bytes(b"x" * (8 << 20))  # no newline yet: a writer in the middle of a monster line
    running = Running(make_input(tmp_path, str(log), max_line_bytes="64KiB"))
    wait_for(lambda: running.input.stats.errors["line_too_long"] == 1, what="the over-long line")
    [harvester] = running.input.prospector.harvesters.values()
    assert len(harvester._pending) <= 64 << 10  # type: ignore[union-attr]
    append(log, "\n" + COF_LINES[0])
    wait_for(lambda: running.input.stats.observations == 1)
    running.halt()
    assert running.totals() == expected_totals(COF_LINES[:1])


def test_excluded_and_non_matching_files_are_ignored(tmp_path: Path, logdir: Path) -> None:
    (logdir / "a.ndjson").write_text(COF_LINES[0])
    (logdir / "b.ndjson.gz").write_text(COF_LINES[1])
    (logdir / "sub").mkdir()
    (logdir / "sub" / "c.ndjson").write_text(COF_LINES[2])
    running = Running(make_input(tmp_path, str(logdir / "**" / "*.ndjson*"), exclude_files=[r"\.gz$"]), once=True)
    running.thread.join(10)
    assert running.totals() == expected_totals([COF_LINES[0], COF_LINES[2]])


ZEEK_SECTIONS = GOLDEN / "zeek" / "zeek-btest-baselines_concatenated.log"


@pytest.mark.skipif(
    "zeek" not in registry.available() or not ZEEK_SECTIONS.exists(), reason="needs the zeek parser and its sample"
)
def test_resuming_inside_a_zeek_log_shows_the_parser_its_headers_again(tmp_path: Path, logdir: Path) -> None:
    """Real Zeek output whose ``#fields`` change mid-file: resume inside a section with its own layout."""
    lines = ZEEK_SECTIONS.read_text().splitlines(keepends=True)
    widths = [(i, line.count("\t")) for i, line in enumerate(lines) if line.startswith("#fields")]
    section = next(i for i, width in widths if width != widths[0][1])  # a layout unlike the file's first
    cut = next(i for i in range(section, len(lines)) if not lines[i].startswith("#")) + 1
    log = logdir / "dns.log"
    log.write_text("".join(lines[:cut]))
    first = Running(make_input(tmp_path, str(log), format="zeek"))
    wait_for(lambda: first.input.stats.lines == cut)
    snapshot = first.halt()
    with log.open("a") as fh:
        fh.write("".join(lines[cut:]))
    resumed = make_input(tmp_path, str(log), format="zeek")
    resumed.restore(snapshot)
    second = Running(resumed)
    wait_for(lambda: second.input.stats.lines == len(lines) - cut, what="the rest of the log")
    second.halt()
    whole = ParseRun(registry.parser_class("zeek")())
    expected = list(whole.lines(line.rstrip("\n") for line in lines))
    assert second.input.stats.errors == whole.stats.errors  # the section's #fields was known after the restart
    assert totals(first.collector.observations + second.collector.observations) == totals(expected)


def _offset(snapshot: Any) -> int:
    [state] = snapshot.values()
    return int(state[6])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_what_a_parser_holds_survives_a_kill_after_the_commit(tmp_path: Path, logdir: Path, case: Case) -> None:
    """The snapshot taken with the last emit (what a commit makes durable) carries what the parser holds.

    A ``kill -9`` right after that commit loses everything the input did not
    emit: here, the second run starts from that snapshot (through JSON, as the
    spool stores it) and what the first run emitted after it is thrown away.
    """
    written = case.log(passes=1)
    log = logdir / "server.log"
    write_lines(log, written)
    settings = {"format": case.fmt, "options": case.options, "flush_inactive": "1h"}
    first = Running(make_input(tmp_path, str(log), **settings))
    size = log.stat().st_size
    wait_for(lambda: first.collector.snapshot is not None and _offset(first.collector.snapshot) == size)
    with first.collector.lock:
        committed, snapshot = list(first.collector.observations), first.collector.snapshot
        durable = decode_checkpoint(encode_checkpoint(Checkpoint(1, {"in": snapshot}))).inputs["in"]
    first.halt()
    resumed = make_input(tmp_path, str(log), **settings)
    resumed.restore(durable)
    second = Running(resumed, once=True)
    second.thread.join(10)
    assert kind_totals(committed + second.collector.observations) == case.expected(written)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_quiet_file_releases_what_its_parser_holds(tmp_path: Path, logdir: Path, case: Case) -> None:
    written = case.log(passes=1)
    log = logdir / "server.log"
    running = Running(make_input(tmp_path, str(log), format=case.fmt, options=case.options, flush_inactive="100ms"))
    write_lines(log, written)
    expected = case.expected(written)

    def delivered() -> bool:
        with running.collector.lock:
            return kind_totals(running.collector.observations) == expected

    wait_for(delivered, timeout=4.0, what="the held lines (close_inactive is 5 s: only the quiet flush can do it)")
    assert running.thread.is_alive()
    running.halt()


def test_a_state_saved_by_another_parser_version_is_reported_and_the_file_read_on(
    tmp_path: Path, logdir: Path
) -> None:
    case = BY_NAME["dnsmasq"]
    written = case.log(passes=2)
    log = logdir / "dnsmasq.log"
    write_lines(log, written[: len(case.lines)])
    settings = {"format": case.fmt, "options": case.options, "flush_inactive": "1h"}
    first = Running(make_input(tmp_path, str(log), **settings))
    wait_for(lambda: first.collector.snapshot is not None and _offset(first.collector.snapshot) == log.stat().st_size)
    snapshot = decode_checkpoint(encode_checkpoint(Checkpoint(1, {"in": first.halt()}))).inputs["in"]
    [row] = snapshot.values()
    assert row[-1]["format"] == "dnsmasq" and row[-1]["data"]["rrset"] is not None  # the last reply, held
    row[-1]["version"] += 1  # as if written by another release
    write_lines(log, written[len(case.lines) :])
    resumed = make_input(tmp_path, str(log), **settings)
    resumed.restore(snapshot)
    second = Running(resumed, once=True)
    second.thread.join(10)
    assert resumed.stats.errors["state_not_loaded"] == 1
    assert second.collector.observations  # the lines after the offset were read by a fresh parser


def test_positions_written_by_the_previous_version_are_read(tmp_path: Path, logdir: Path) -> None:
    """Version 1 file states had no parser state: the agent resumes at their offsets."""
    log = logdir / "query.log"
    log.write_text("".join(COF_LINES[:5]))
    first = Running(make_input(tmp_path, str(log)))
    wait_for(lambda: first.input.stats.lines == 5)
    snapshot = decode_checkpoint(encode_checkpoint(Checkpoint(1, {"in": first.halt()}))).inputs["in"]
    version_1 = {sid: row[:-1] for sid, row in snapshot.items()}  # without the parser field
    append(log, "".join(COF_LINES[5:]))
    resumed = make_input(tmp_path, str(log))
    resumed.restore(version_1)
    second = Running(resumed)
    wait_for(lambda: second.input.stats.lines == len(COF_LINES) - 5)
    second.halt()
    assert second.totals() == expected_totals(COF_LINES[5:])
