"""Real processes for the agent's reliability tests: `yapdns agent` runs against a `yapdns serve`.

The server is ``tests/live.py``'s. What it stored is read back through its
own query API (``/api/v1/record``), per sensor, so that several tests can
share one server without seeing each other.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tests.agent.held_lines import Key as KindKey
from tests.agent.held_lines import KindTotals, by_kind
from tests.agent.helpers import Key, Totals
from tests.live import YAPDNS, LiveServer
from yapdns.core.windows import Windows


def stored_totals(server: LiveServer, query_token: str, keys: Iterable[Key], sensor: str) -> Totals:
    """What ``server`` holds for ``keys`` under ``sensor``, read through its query API (absent keys left out)."""
    out: Totals = {}
    for rrname, rrtype, rdata in keys:
        query = urllib.parse.urlencode({"rrname": rrname, "rrtype": rrtype, "rdata": rdata})
        request = urllib.request.Request(
            f"{server.url}/api/v1/record?{query}", headers={"Authorization": f"Bearer {query_token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=server.ssl_context()) as reply:
                detail = json.load(reply)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            raise
        for prov in detail["provenance"]:
            if prov["sensor_id"] == sensor:  # time_* only when seen in traffic, zone_time_* when in zone files
                zone = (prov.get("zone_time_first"), prov.get("zone_time_last"))
                first, last = (prov["time_first"], prov["time_last"]) if "time_first" in prov else zone
                out[(rrname, rrtype, rdata)] = (Windows(first, last, *zone, "time_first" not in prov), prov["count"])
    return out


def stored_kind_totals(server: LiveServer, query_token: str, keys: Iterable[KindKey], sensor: str) -> KindTotals:
    """What ``server`` holds under ``sensor`` for the answers in ``keys``, and every negative answer and bare
    query it holds there for the names of the negative and query keys (``held_lines.kind_totals`` keys)."""
    grouped = by_kind(keys)
    answers = stored_totals(server, query_token, [(k[1], k[2], k[3]) for k in grouped["answer"]], sensor)
    out: KindTotals = {  # held lines are traffic: the first window is the one compared
        ("answer", *key): (windows.time_first, windows.time_last, count) for key, (windows, count) in answers.items()
    }
    for kind, endpoint in (("negative", "negatives"), ("query", "qnames")):
        for rrname in sorted({key[1] for key in grouped[kind]}):
            query = urllib.parse.urlencode({"rrname": rrname, "sensor": sensor})
            request = urllib.request.Request(
                f"{server.url}/api/v1/{endpoint}?{query}", headers={"Authorization": f"Bearer {query_token}"}
            )
            with urllib.request.urlopen(request, timeout=10, context=server.ssl_context()) as reply:
                rows = json.load(reply)[endpoint]
            for row in rows:
                key = (kind, row["rrname"], row["rrtype"], *([row["rcode"]] if kind == "negative" else []))
                out[key] = (row["time_first"], row["time_last"], row["count"])
    return out


def certificate_for_localhost(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 (subjectAltName), made by openssl."""
    cert, key = directory / "server.pem", directory / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def agent_config(path: Path, url: str, token: str, inputs: list[dict[str, Any]], **sections: dict[str, Any]) -> Path:
    """Write an agent.yml tuned for tests (short windows and backoffs)."""
    doc: dict[str, Any] = {
        "path.data": str(path.parent / "agent-data"),
        "inputs": [
            {"scan_frequency": "50ms", "backoff": "20ms", "close_rotated": "500ms", **entry} for entry in inputs
        ],
        "output": {"url": url, "token": token, "backoff": {"initial": "50ms", "max": "500ms"}, "timeout": "5s"},
        "aggregate": {"window": "200ms"},
        "stats": {"period": "1s"},
    }
    for name, values in sections.items():
        doc[name] = {**doc.get(name, {}), **values}
    path.write_text(yaml.safe_dump(doc))
    return path


class AgentProcess:
    """``yapdns agent -c CONFIG`` as a child process."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "agent.log"

    def start(self) -> AgentProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([*YAPDNS, "agent", "-c", str(self.config)], stdout=log, stderr=log)
        return self

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stats(self) -> dict[str, Any]:
        out = subprocess.run([*YAPDNS, "agent", "-c", str(self.config), "--stats"], capture_output=True, check=False)
        return json.loads(out.stdout) if out.returncode == 0 else {}

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def run_once(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [*YAPDNS, "agent", "--once", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
