"""Documentation that must not fall behind the code."""

from __future__ import annotations

from tests.conftest import ROOT
from yapdns.agent.parsers import registry
from yapdns.config import SETTINGS


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"


def test_every_parser_is_documented() -> None:
    text = (ROOT / "docs" / "parsers.md").read_text()
    missing = [name for name in registry.available() if f"`{name}`" not in text]
    assert not missing, f"document these formats in docs/parsers.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    lines = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()]
    commands = [ln for ln in lines[:30] if ln.startswith("./scripts/")]
    assert commands[:2] == ["./scripts/demo", "./scripts/test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in ci
