"""The README's first tour runs as written on the demo's data, and a rerun of scripts/demo keeps the admin
password and the sensor token (issue 13, section 6).

Runs ``./scripts/demo`` on a free port and a temporary data directory, then every line of the README's tour
in one shell (only the port and the data directory are substituted), then the demo again.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
BANNER = "YAPDNS is running"


def tour_lines() -> list[str]:
    text = (ROOT / "README.md").read_text().partition("## A first tour")[2]
    block = text.split("```")[1]
    return [line for line in block.splitlines() if line.strip()]


def clean_env() -> dict[str, str]:
    """The environment a user's shell has: none of the test run's YAPDNS_ or Django settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("YAPDNS_", "DJANGO_"))}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    """``./scripts/demo`` in its own process group, until its banner is out."""

    def __init__(self, data: Path, port: int, log: Path) -> None:
        env = {**clean_env(), "YAPDNS_DATA_DIR": str(data), "PORT": str(port)}
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                ["./scripts/demo"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 600
        while BANNER not in log.read_text():
            assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        time.sleep(0.5)  # the rest of the banner

    def field(self, name: str) -> str:
        match = re.search(rf"^\s+{name}:\s+(.*)$", self.log.read_text(), re.MULTILINE)
        assert match, self.log.read_text()
        return match[1].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, Demo]]:
    work = tmp_path_factory.mktemp("demo")
    port = free_port()
    demo = Demo(work / "data", port, work / "first.log")
    try:
        yield work, port, demo
    finally:
        demo.stop()


def test_every_line_of_the_readme_tour_runs_as_written(demo_run: tuple[Path, int, Demo]) -> None:
    work, port, _ = demo_run
    lines = tour_lines()
    assert lines[0] == "export YAPDNS_DATA_DIR=$PWD/data/demo"
    script = ["set -uo pipefail"]
    for number, line in enumerate(lines):
        command = line.replace("$PWD/data/demo", str(work / "data")).replace("8000", str(port))
        script.append(f"echo '### {number}'; {command} || {{ echo 'FAILED: line {number}'; exit 1; }}")
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout.split("### ")
    outputs = {int(part.split("\n", 1)[0]): part.split("\n", 1)[1] for part in out[1:]}
    for number, line in enumerate(lines):
        if line.startswith((".venv/bin/yapdns query", "curl", "DNSDBQ_SYSTEM")):
            assert "no records" not in outputs[number] and len(outputs[number]) > 200, (line, outputs[number])
    assert "74.125." in outputs[3] and '"records": [{' in outputs[10] and "microsoft.com." in outputs[11]


def test_a_rerun_keeps_the_password_and_the_sensor_token(demo_run: tuple[Path, int, Demo]) -> None:
    work, port, first = demo_run
    password, token = first.field("password"), first.field("sensor token").split()[0]
    assert len(password) >= 12 and token.startswith("ys_")
    first.stop()
    second = Demo(work / "data", port, work / "second.log")
    try:
        assert second.field("password").startswith("(unchanged") and "--reset-password" in second.field("password")
        assert second.field("sensor token").split()[0] == token
        for log in (first.log, second.log):
            assert "\x1b[" not in log.read_text()  # no colours into a file
    finally:
        second.stop()
