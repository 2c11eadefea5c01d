"""The input-type registry end to end: dnstap and pcap inputs declared in agent.yml, through agent and server.

The captures are the wire sensors' committed fixtures, written by BIND 9 and
tcpdump (tests/agent/inputs/data/PROVENANCE.txt). Each input is first run on
its own to know what it yields; then ``yapdns agent --once`` runs both from
one config, and the server must hold exactly those totals per sensor.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from tests.agent.conftest import SENSOR, SharedServer
from tests.agent.helpers import totals
from tests.agent.live import run_once, stored_totals
from yapdns.agent.config import config_from_dict
from yapdns.agent.inputs.base import AgentInput
from yapdns.agent.inputs.registry import input_class
from yapdns.core.errors import ConfigurationError
from yapdns.core.model import Observation

DATA = Path(__file__).parent / "inputs" / "data"
PCAP, DNSTAP = DATA / "bind9_dig_loopback.pcap", DATA / "bind9_auth_client.dnstap"
OUTPUT = {"url": "http://127.0.0.1:1", "token": "t"}


def port() -> int:
    from tests.agent.wire.captured import PORT

    return PORT


def inputs() -> list[dict[str, object]]:
    return [
        {"id": "capture", "type": "pcap", "paths": [str(PCAP)], "ports": [port()], "sensor_id": "pcap-e2e"},
        {"id": "tap", "type": "dnstap", "paths": [str(DNSTAP)], "tail": False, "sensor_id": "dnstap-e2e"},
    ]


def run_alone(agent_input: AgentInput) -> list[Observation]:
    out: list[Observation] = []
    agent_input.run(out.extend, threading.Event(), once=True)
    return out


def test_dnstap_and_pcap_inputs_are_declared_by_type(tmp_path: Path) -> None:
    config = config_from_dict({"output": OUTPUT, "inputs": inputs()}, base_dir=tmp_path)
    built = [input_class(c.type).from_config(c) for c in config.inputs]
    assert [type(b).__name__ for b in built] == ["PcapFileInput", "DnstapFileInput"]
    assert [b.name for b in built] == ["capture", "tap"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "pcap", "paths": ["x"], "snaplen": 10}, "inputs[0]: unknown key 'snaplen'"),
        ({"type": "pcap", "paths": ["x"], "format": "cof"}, "inputs[0].format: not a key of type 'pcap'"),
        ({"type": "dnstap", "paths": ["x"], "sensor": "a"}, "its keys: 'paths'"),
        ({"type": "dnstap", "paths": ["x"], "message_types": ["NOPE"]}, "inputs[0]: unknown dnstap message types"),
        ({"type": "dnstap_socket", "unix": 5}, "inputs[0].unix: Expected `str"),
    ],
)
def test_type_specific_mistakes_name_the_key(entry: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        config_from_dict({"output": OUTPUT, "inputs": [entry]}, base_dir=tmp_path)
    assert message in str(caught.value)


def test_dnstap_and_pcap_through_agent_and_server(server: SharedServer, tmp_path: Path) -> None:
    config = config_from_dict({"output": OUTPUT, "inputs": inputs()}, base_dir=tmp_path)
    expected = {}
    for cfg in config.inputs:
        observations = run_alone(input_class(cfg.type).from_config(cfg))
        assert observations, f"{cfg.id}: the fixture yields nothing"
        expected[f"{SENSOR}/{observations[0].sensor_id}"] = totals(observations)
    path = tmp_path / "agent.yml"
    doc = {
        "path.data": str(tmp_path / "data"),
        "inputs": inputs(),
        "output": {"url": server.live.url, "token": server.token},
    }
    path.write_text(yaml.safe_dump(doc))
    done = run_once("-c", str(path), timeout=120)
    assert done.returncode == 0, done.stderr
    stored = {sensor: stored_totals(server.live, server.query_token, want, sensor) for sensor, want in expected.items()}
    assert stored == expected
