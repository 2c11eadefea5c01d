"""Bad lines set aside by a real agent, then fed again with ``yapdns agent --replay-bad`` once the input is fixed.

A ``regex`` input whose pattern knows ``ip=`` but not ``addr=`` runs against
the real server: the ``addr=`` lines are set aside. The pattern is fixed,
the replay ships them, and the server then holds every line exactly once
(the lines shipped the first time are not counted again); a line that is
still bad goes back to the bad-lines file, exactly as it was.
"""

from __future__ import annotations

import base64
import stat
import subprocess
from pathlib import Path

from tests.agent.conftest import SENSOR, SharedServer
from tests.agent.helpers import Totals, wait_for
from tests.agent.live import AgentProcess, agent_config, stored_totals
from tests.live import YAPDNS
from yapdns.agent.badlines import read_entries
from yapdns.core.windows import Windows

BEFORE = r"(?P<time>\d+) host=(?P<rrname>\S+) ip=(?P<rdata>\S+)"
FIXED = r"(?P<time>\d+) host=(?P<rrname>\S+) (?:ip|addr)=(?P<rdata>\S+)"
T0 = 1_700_000_000
JUNK = b"\xff\xfe not a line of this log\n"


def _config(tmp_path: Path, server: SharedServer, log: Path, pattern: str) -> Path:
    entry = {"id": "web", "format": "regex", "paths": [str(log)], "sensor": "replay", "options": {"extra": {"pattern": pattern}}}
    return agent_config(tmp_path / "agent.yml", server.live.url, server.token, [entry])


def _replay(config: Path, input_id: str = "web") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*YAPDNS, "agent", "-c", str(config), "--replay-bad", input_id],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def _stored(server: SharedServer, expected: Totals) -> Totals:
    return stored_totals(server.live, server.query_token, expected, f"{SENSOR}/replay")


def test_bad_lines_are_set_aside_then_replayed_once_fixed(server: SharedServer, tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    good = {(f"a{i}.replay.example", "A", f"192.0.2.{i}"): (Windows(T0 + i, T0 + i), 1) for i in range(1, 41)}
    late = {(f"b{i}.replay.example", "A", f"198.51.100.{i}"): (Windows(T0 + i, T0 + i), 1) for i in range(1, 31)}
    with log.open("wb") as fh:
        for i in range(1, 41):
            fh.write(f"{T0 + i} host=a{i}.replay.example ip=192.0.2.{i}\n".encode())
            if i <= 30:
                fh.write(f"{T0 + i} host=b{i}.replay.example addr=198.51.100.{i}\n".encode())
        fh.write(JUNK)
    config = _config(tmp_path, server, log, BEFORE)
    agent = AgentProcess(config).start()
    try:
        wait_for(lambda: _stored(server, good) == good, what="the lines the first pattern reads")
        wait_for(lambda: (agent.stats().get("inputs") or [{}])[0].get("lines") == 71, what="every line read")
    finally:
        assert agent.stop() == 0
    data = tmp_path / "agent-data"
    bad = data / "bad" / "web.ndjson"
    entries = [e for e in read_entries(bad) if e is not None]
    assert len(entries) == 31 and {e.code for e in entries} == {"no_match"}
    assert {e.file for e in entries} == {str(log)} and entries[-1].line_no == 71
    assert stat.S_IMODE(bad.stat().st_mode) == 0o600

    fixed = _config(tmp_path, server, log, FIXED)
    running = AgentProcess(fixed).start()  # the replay needs the data directory to itself
    try:
        wait_for(lambda: running.stats() != {}, what="the agent to start")
        refused = _replay(fixed)
        assert refused.returncode != 0 and "another agent is using the data directory" in refused.stderr
    finally:
        assert running.stop() == 0

    done = _replay(fixed)
    assert done.returncode == 0, done.stderr
    assert "replayed 31 lines of input web: 30 observations, 1 lines still bad" in done.stderr
    assert _stored(server, {**good, **late}) == {**good, **late}  # each line once: none of the first 40 again
    (still,) = [e for e in read_entries(bad) if e is not None]
    assert still.line_no == 71 and base64.b64decode(still.line_b64 or "") == JUNK.rstrip(b"\n")
    assert not (data / "bad" / "web.replay").exists()

    again = _replay(fixed)  # the junk line alone: still bad, and kept
    assert again.returncode == 0 and "replayed 1 lines of input web: 0 observations, 1 lines still bad" in again.stderr
    assert [e.line_no for e in read_entries(bad) if e is not None] == [71]
    assert _stored(server, {**good, **late}) == {**good, **late}


def test_replaying_an_input_without_bad_lines_or_of_another_type_is_an_error(
    server: SharedServer, tmp_path: Path
) -> None:
    log = tmp_path / "web.log"
    log.write_text(f"{T0} host=x.replay.example ip=192.0.2.1\n")
    config = _config(tmp_path, server, log, BEFORE)
    nothing = _replay(config)
    assert nothing.returncode != 0 and "has no bad lines set aside" in nothing.stderr
    unknown = _replay(config, "nosuch")
    assert unknown.returncode != 0 and "no input 'nosuch'" in unknown.stderr
