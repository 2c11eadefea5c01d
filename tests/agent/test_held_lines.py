"""Formats whose parsers hold lines, with real agent and server processes: ``kill -9`` and quiet logs.

A parser that keeps something between lines (dnsmasq's RRset being folded,
unbound's questions waiting for their reply, a dnsdb object or a sysmon
event spread over several lines, a Zeek header...) must neither lose nor
double a line when the agent is killed, and must deliver what it holds when
the log goes quiet. The line material is real (``held_lines.py``); what the
server stores under each format's sub-sensor is compared with the exact
totals of the lines written, for every kind of observation (answers per RR,
negative answers, bare queries).
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import SENSOR, SharedServer
from tests.agent.held_lines import BY_NAME, CASES, Case, KindTotals, write_lines
from tests.agent.helpers import wait_for
from tests.agent.live import AgentProcess, agent_config, stored_kind_totals
from yapdns.agent.parsers import registry
from yapdns.agent.parsing import ParseRun

KILLS = 8
LINES_PER_FORMAT = 150


class Logs:
    """One agent with one input per case: a log file and a sub-sensor each, and the lines written to it."""

    def __init__(self, server: SharedServer, tmp_path: Path, label: str, cases: list[Case]) -> None:
        self.server = server
        self.dir = tmp_path
        self.cases = cases
        self.label = label
        self.written: dict[str, list[str]] = {case.name: [] for case in cases}

    def path(self, case: Case) -> Path:
        return self.dir / f"{case.name}.log"

    def sensor(self, case: Case) -> str:
        return f"{self.label}-{case.name}"

    def config(self, **settings: object) -> Path:
        inputs = [
            {"id": case.name, "format": case.fmt, "paths": [str(self.path(case))], "sensor": self.sensor(case),
             "options": case.options, **settings}
            for case in self.cases
        ]  # fmt: skip
        return agent_config(
            self.dir / "agent.yml",
            self.server.live.url,
            self.server.token,
            inputs,
            output={"batch_size": 50},
            aggregate={"window": "30ms"},
        )

    def write(self, case: Case, lines: list[str]) -> None:
        write_lines(self.path(case), lines)
        self.written[case.name] += lines

    def mismatches(self) -> dict[str, tuple[KindTotals, KindTotals]]:
        """Per case whose server totals differ from the lines written: (expected, stored)."""
        out = {}
        for case in self.cases:
            expected = case.expected(self.written[case.name])
            stored = stored_kind_totals(self.server.live, self.server.query_token, expected, f"{SENSOR}/{self.sensor(case)}")
            if stored != expected:
                out[case.name] = (expected, stored)
        return out

    def wait_exact(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while wrong := self.mismatches():
            doubled = any(
                stored.get(key, (0, 0, 0))[2] > value[2] for expected, stored in wrong.values()
                for key, value in expected.items()
            )  # fmt: skip
            if doubled or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert not wrong, "\n".join(f"{name}: {_diff(*pair)}" for name, pair in wrong.items())

    def registry(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = json.loads((self.dir / "agent-data" / "registry.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"seq": 0, "inputs": {}}
        return doc


def _diff(expected: KindTotals, stored: KindTotals) -> str:
    lost = {k: v for k, v in expected.items() if stored.get(k) != v}
    extra = {k: v for k, v in stored.items() if k not in expected}
    return f"expected {lost}, stored {({k: stored.get(k) for k in lost})}, unexpected {extra}"


def _held_at_end(case: Case) -> bool:
    run = ParseRun(registry.parser_class(case.fmt)(case.parser_options()))
    for line in case.lines:
        run.line(line)
    return bool(run.flush_idle())


@pytest.mark.slow
def test_kill_9_at_random_points_neither_loses_nor_doubles_held_lines(server: SharedServer, tmp_path: Path) -> None:
    """Every stateful format at once, killed soon after a commit, again and again, while its log grows."""
    logs = Logs(server, tmp_path, "kill-held", CASES)
    config = logs.config(flush_inactive="1h")  # nothing released early: only the checkpoint carries held lines
    rng = random.Random(1313)
    stop = threading.Event()
    streams = {case.name: case.log(passes=max(2, -(-LINES_PER_FORMAT // len(case.lines)))) for case in CASES}

    def writer() -> None:  # a few lines at a time to one log, until the kills are over (or every stream is out)
        pace = random.Random(31)
        while not stop.wait(pace.uniform(0.02, 0.08)):
            case = pace.choice([c for c in CASES if len(logs.written[c.name]) < len(streams[c.name])] or [None])
            if case is None:
                return
            done = len(logs.written[case.name])
            logs.write(case, streams[case.name][done : done + pace.randint(1, 8)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(KILLS):
            seq = logs.registry()["seq"]
            agent = AgentProcess(config).start()
            with contextlib.suppress(AssertionError):  # a commit made in this life (or a few seconds)...
                wait_for(lambda s=seq: logs.registry()["seq"] > s, timeout=5, what="a commit")
            time.sleep(rng.uniform(0, 0.3))  # ... then a random moment
            agent.kill()
    finally:
        stop.set()
        thread.join()
    assert all(logs.written.values())
    agent = AgentProcess(logs.config()).start()  # default flush_inactive: the quiet logs release what is held
    try:
        logs.wait_exact(timeout=90)
    finally:
        assert agent.stop() == 0


def test_lines_held_at_a_commit_survive_kill_9(server: SharedServer, tmp_path: Path) -> None:
    """The reported cases: dnsmasq's last reply, and unbound's first 10 questions (log-queries only)."""
    cases = [BY_NAME["dnsmasq"], BY_NAME["dnsmasq-extra"], BY_NAME["unbound-queries-only"]]
    logs = Logs(server, tmp_path, "held", cases)
    for case in cases:
        logs.write(case, case.log(passes=1)[:10] if case.fmt == "unbound" else case.log(passes=1))
    sizes = {case.name: logs.path(case).stat().st_size for case in cases}

    def committed_to_the_end() -> bool:
        inputs = logs.registry()["inputs"]
        return all(any(row[6] == size for row in (inputs.get(name) or {}).values()) for name, size in sizes.items())

    agent = AgentProcess(logs.config(flush_inactive="1h")).start()
    try:
        wait_for(committed_to_the_end, timeout=30, what="offsets at the ends of the logs, durable")
    finally:
        agent.kill()
    agent = AgentProcess(logs.config()).start()
    try:
        logs.wait_exact(timeout=30)
    finally:
        assert agent.stop() == 0


def test_held_lines_are_delivered_while_the_agent_runs_and_the_log_goes_quiet(
    server: SharedServer, tmp_path: Path
) -> None:
    cases = [case for case in CASES if _held_at_end(case)]
    assert {"dnsmasq", "unbound", "unbound-queries-only", "msdns"} <= {case.name for case in cases}
    logs = Logs(server, tmp_path, "quiet", cases)
    agent = AgentProcess(logs.config(close_inactive="1h")).start()  # only the quiet flush can release them
    try:
        wait_for(lambda: bool(agent.stats().get("inputs")), what="the agent to start")
        for case in cases:
            logs.write(case, case.log(passes=1))
        logs.wait_exact(timeout=30)
        assert agent.alive()
        assert {i["state"] for i in agent.stats()["inputs"]} == {"running"}
    finally:
        assert agent.stop() == 0
