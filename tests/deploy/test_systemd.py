"""The systemd units in deploy/systemd: valid for systemd itself, hardened, and running real commands."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.live import YAPDNS

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/yapdns/bin/yapdns"
HARDENING = {"NoNewPrivileges": "true", "ProtectSystem": "strict", "PrivateTmp": "true", "ProtectHome": "true"}


def directives(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    return dict(parser["Service"])


def commands(unit: Path) -> list[list[str]]:
    service = directives(unit)
    return [service[k].split() for k in ("ExecStartPre", "ExecStart") if k in service]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_the_unit_is_hardened(unit: Path) -> None:
    service = directives(unit)
    assert service.get("User") and service["User"] != "root"
    for key, wanted in HARDENING.items():
        assert service.get(key) == wanted, key
    data = f"/var/lib/{service['StateDirectory']}"
    assert service["ReadWritePaths"] == data
    assert service["CapabilityBoundingSet"] == "" and service["AmbientCapabilities"] == ""


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_accepts_the_unit(unit: Path, tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the unit as shipped, with the install path pointed at this checkout's yapdns."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: run scripts/test-deps")
    yapdns = Path(shutil.which("yapdns") or Path(YAPDNS[0]).parent / "yapdns")
    assert yapdns.exists(), yapdns
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(INSTALLED, str(yapdns)))
    drop_in = unit.with_name(unit.name + ".d")
    if drop_in.is_dir():
        shutil.copytree(drop_in, tmp_path / drop_in.name)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    problems = [line for line in done.stderr.splitlines() if unit.name in line]  # it exits 0 on bad directives
    assert done.returncode == 0 and not problems, done.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_command_is_a_yapdns_command(unit: Path) -> None:
    for argv in commands(unit):
        if argv[0] != INSTALLED:
            continue
        sub = argv[1]
        done = subprocess.run([*YAPDNS, sub, "--help"], capture_output=True, text=True, check=False)
        if done.returncode and sub == "worker":
            pytest.skip("`yapdns worker` is not in this build yet")
        assert done.returncode == 0, f"{unit.name}: yapdns {sub}: {done.stderr}"
