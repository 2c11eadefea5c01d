"""Every real sample under tests/agent/parsers/golden/ goes through the real agent to the real server, exactly.

One ``yapdns agent --once`` run with one input per sample (its format, its
``.options.json``, a sub-sensor of its own). For every RR answer the parser
finds in the sample, read line by line as the agent reads it, the server
must hold exactly that first, last and count under that sample's sensor:
nothing lost, nothing doubled, no time replaced by the time of reading. New
formats and samples are covered as soon as they land.
"""

from __future__ import annotations

import glob
import json
from collections import defaultdict
from pathlib import Path

import yaml

from tests.agent.conftest import SENSOR, SharedServer
from tests.agent.helpers import Totals, totals
from tests.agent.live import run_once, stored_totals
from tests.agent.parsers.test_golden import _samples
from yapdns.agent.parsers import registry
from yapdns.agent.parsers.base import DocumentParser, ParserOptions
from yapdns.agent.parsing import ParseRun
from yapdns.core.model import Observation


def as_the_agent_reads(fmt: str, sample: Path, options: ParserOptions) -> list[Observation]:
    run = ParseRun(registry.parser_class(fmt)(options))
    data = sample.read_bytes()
    if isinstance(run.parser, DocumentParser):
        return list(run.document(data))
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return list(run.lines(raw.removesuffix(b"\r").decode("utf-8", "surrogateescape") for raw in lines))


def test_every_golden_sample_arrives_exactly(server: SharedServer, tmp_path: Path) -> None:
    live, token = server.live, server.token
    samples = _samples()
    assert samples, "no golden samples"
    inputs = []
    expected: dict[str, list[Observation]] = defaultdict(list)
    for i, sample in enumerate(samples):
        fmt, label = sample.parent.name, f"golden-{i}-{sample.parent.name}"
        opts_path = sample.with_name(sample.name + ".options.json")
        options = json.loads(opts_path.read_text()) if opts_path.exists() else {}
        inputs.append(
            {"id": label, "format": fmt, "paths": [glob.escape(str(sample))], "sensor": label, "options": options}
        )
        parsed = ParserOptions(**options, sensor_id=label)
        for obs in as_the_agent_reads(fmt, sample, parsed):
            expected[f"{SENSOR}/{obs.sensor_id}"].append(obs)
    config = tmp_path / "agent.yml"
    config.write_text(
        yaml.safe_dump(
            {"path.data": str(tmp_path / "data"), "inputs": inputs, "output": {"url": live.url, "token": token}}
        )
    )
    done = run_once("-c", str(config), timeout=300)
    assert done.returncode == 0, done.stderr
    stored: dict[str, Totals] = {}
    wanted: dict[str, Totals] = {}
    for sensor, observations in expected.items():
        wanted[sensor] = totals(observations)
        stored[sensor] = stored_totals(live, server.query_token, wanted[sensor], sensor)
    assert sum(len(t) for t in wanted.values()) >= len(samples)  # not a vacuous comparison
    assert stored == wanted
