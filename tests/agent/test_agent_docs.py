"""docs/agent.md must not fall behind the agent: every config key documented, the spool format's constants right."""

from __future__ import annotations

import msgspec

from tests.conftest import ROOT
from yapdns.agent import config as agent_config
from yapdns.agent import positions, spool_format
from yapdns.agent.inputs import registry as input_registry
from yapdns.agent.inputs.log import LogSettings

DOC = (ROOT / "docs" / "agent.md").read_text()

SECTIONS: dict[str, type[msgspec.Struct]] = {
    "output": agent_config.OutputConfig,
    "output.backoff": agent_config.BackoffConfig,
    "aggregate": agent_config.AggregateConfig,
    "spool": agent_config.SpoolConfig,
    "stats": agent_config.StatsConfig,
    "logging": agent_config.LoggingConfig,
    "path": agent_config.PathConfig,
}


def test_every_section_key_is_documented() -> None:
    keys = [
        f"{section}.{field}"
        for section, struct in SECTIONS.items()
        for field in struct.__struct_fields__
        if not (section == "output" and field == "backoff")
    ]
    missing = [k for k in keys if f"`{k}`" not in DOC]
    assert not missing, f"document these agent.yml keys in docs/agent.md: {missing}"


def test_every_input_key_is_documented() -> None:
    keys = [*agent_config._INPUT_COMMON, *LogSettings.__struct_fields__]
    missing = [k for k in keys if f"| `{k}` |" not in DOC]
    assert not missing, f"document these input keys in docs/agent.md: {missing}"


def test_the_documented_spool_format_matches_the_code() -> None:
    assert spool_format.SEGMENT_MAGIC.decode() in DOC and spool_format.FRAME_MAGIC.decode() in DOC
    assert spool_format.FRAME_HEADER.size == 16 and spool_format.SEGMENT_HEADER.size == 8
    assert "(version 1)" in DOC and spool_format.FRAME_VERSION == spool_format.SEGMENT_VERSION == 1
    assert "1 = batch, 2 = checkpoint" in DOC
    assert f'"version": {positions.VERSION}}}`' in DOC and f'`{{"version": {positions.VERSION}, "seq"' in DOC
    assert (spool_format.TYPE_BATCH, spool_format.TYPE_CHECKPOINT) == (1, 2)


def test_every_input_type_is_documented() -> None:
    missing = [kind for kind in input_registry.available() if f"| `{kind}`" not in DOC]
    assert not missing, f"add these input types to the 'Input types' table of docs/agent.md: {missing}"
