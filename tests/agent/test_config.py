"""agent.yml: valid configs load with their defaults; every mistake is reported with the key that holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from yapdns.agent.config import config_from_dict, load_config
from yapdns.agent.inputs import registry as input_registry
from yapdns.agent.inputs.log import LogSettings
from yapdns.core.errors import ConfigurationError

MINIMAL = {"output": {"url": "https://pdns.example.org", "token": "t0k"}}


def load(doc: dict[str, object], base: Path = Path("/etc/yapdns")) -> object:
    return config_from_dict(doc, base_dir=base)


def error_of(doc: dict[str, object]) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load(doc)
    return str(caught.value)


def test_a_filebeat_style_config_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TOKEN", "secret-from-env")
    path = tmp_path / "agent.yml"
    path.write_text(
        """
path.data: state
inputs:
  - format: cof
    paths: [logs/*.ndjson, /var/log/pdns/**/*.json]
    exclude_files: ['\\.gz$']
    sensor: ns1
    options: {timezone: Europe/Rome, year: 2024}
    scan_frequency: 250ms
    close_inactive: 5m
    max_line_bytes: 128KiB
output:
  url: https://pdns.example.org/
  token: ${AGENT_TOKEN}
  ca_file: ca.pem
  backoff: {initial: 2s, max: 1m}
aggregate: {window: 10s, max_keys: 50000}
spool: {max_bytes: 2GiB, segment_bytes: 32MiB, on_full: drop}
"""
    )
    config = load_config(path)
    assert config.data_dir == tmp_path / "state"
    assert config.output.resolved_token() == "secret-from-env"
    assert config.output.ingest_url == "https://pdns.example.org/api/v1/ingest"
    assert config.output.ca_file == str(tmp_path / "ca.pem")
    assert (config.output.backoff.initial, config.output.backoff.max) == (2.0, 60.0)
    assert (config.aggregate.window, config.aggregate.max_keys) == (10.0, 50000)
    assert (config.spool.max_bytes, config.spool.segment_bytes, config.spool.on_full) == (2 << 30, 32 << 20, "drop")
    [entry] = config.inputs
    assert (entry.id, entry.type, entry.format, entry.sensor) == ("cof", "log", "cof", "ns1")
    assert entry.parser_options.sensor_id == "ns1"
    assert entry.options.timezone == "Europe/Rome"
    settings = entry.settings
    assert isinstance(settings, LogSettings)
    assert settings.paths == [str(tmp_path / "logs/*.ndjson"), "/var/log/pdns/**/*.json"]
    assert (settings.scan_frequency, settings.close_inactive, settings.max_line_bytes) == (0.25, 300.0, 128 * 1024)


def test_token_file_is_read_and_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("tok-from-file\n")
    config = config_from_dict({"output": {"url": "http://h:8000", "token_file": "token"}}, base_dir=tmp_path)
    assert config.output.resolved_token() == "tok-from-file"
    assert config.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({**MINIMAL, "ouput": {}}, "unknown key 'ouput'"),
        ({"inputs": []}, "missing section 'output'"),
        ({"output": {"url": "pdns.example.org", "token": "t"}}, "output.url: expected an http"),
        ({"output": {"url": "http://h", "token": "t", "token_file": "f"}}, "exactly one of 'token'"),
        ({"output": {"url": "http://h"}}, "exactly one of 'token'"),
        ({"output": {"url": "http://h", "token": "t", "timeout": "soon"}}, "output.timeout: expected a duration"),
        ({"output": {"url": "http://h", "token": "t", "retries": 3}}, "output: unknown key 'retries'"),
        ({"output": {"url": "http://h", "token": "t", "backoff": {"initial": "1s", "maximum": "2s"}}}, "unknown key"),
        ({**MINIMAL, "spool": {"max_bytes": "lots"}}, "spool.max_bytes: expected a size"),
        ({**MINIMAL, "spool": {"on_full": "panic"}}, "spool.on_full"),
        ({**MINIMAL, "aggregate": {"max_keys": 0}}, "aggregate.max_keys"),
        ({**MINIMAL, "inputs": {"format": "cof"}}, "inputs: expected a list"),
        ({**MINIMAL, "inputs": [{"paths": ["x"]}]}, "inputs[0]: missing required key 'format'"),
        ({**MINIMAL, "inputs": [{"format": "cof"}]}, "inputs[0]: missing required key 'paths'"),
        ({**MINIMAL, "inputs": [{"format": "nope", "paths": ["x"]}]}, "inputs[0].format: unknown format 'nope'"),
        ({**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "path": "y"}]}, "inputs[0]: unknown key 'path'"),
        (
            {**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "fields": {"a": 1}}]},
            "label an input with 'sensor'",
        ),
        ({**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "backoff": "x"}]}, "inputs[0].backoff:"),
        ({**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "exclude_files": ["("]}]}, "exclude_files[0]"),
        ({**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "sensor": "a b"}]}, "inputs[0].sensor"),
        ({**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "options": {"tz": "UTC"}}]}, "unknown key 'tz'"),
        (
            {**MINIMAL, "inputs": [{"format": "cof", "paths": ["x"], "options": {"timezone": "Mars/Olympus"}}]},
            "inputs[0].options.timezone: unknown IANA time zone",
        ),
        ({**MINIMAL, "inputs": [{"type": "carrier-pigeon"}]}, "inputs[0].type: unknown input type 'carrier-pigeon'"),
        (
            {**MINIMAL, "inputs": [{"format": "cof", "paths": ["a"]}, {"format": "cof", "paths": ["b"]}]},
            "inputs[1].id: 'cof' is used twice",
        ),
    ],
)
def test_mistakes_name_the_bad_key(doc: dict[str, object], message: str) -> None:
    assert message in error_of(doc)


def test_unset_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    message = error_of({"output": {"url": "http://h", "token": "${NO_SUCH_TOKEN_VAR}"}})
    assert "output.token" in message and "NO_SUCH_TOKEN_VAR" in message
    config = load({"output": {"url": "http://h", "token": "${NO_SUCH_TOKEN_VAR:fallback}"}})
    assert config.output.token == "fallback"  # type: ignore[attr-defined]


def test_the_file_name_prefixes_errors(tmp_path: Path) -> None:
    path = tmp_path / "agent.yml"
    path.write_text("output: {url: 'http://h', token: t}\ninputs: [{format: cof}]\n")
    with pytest.raises(ConfigurationError, match=r"agent\.yml: inputs\[0\]: missing required key 'paths'"):
        load_config(path)
    path.write_text("inputs: [\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_config(path)


def test_input_types_are_modules_exporting_input() -> None:
    assert "log" in input_registry.available()
    assert input_registry.input_class("log").settings_type is LogSettings
    for helper in ("base", "registry"):
        with pytest.raises(ConfigurationError):
            input_registry.input_class(helper)
