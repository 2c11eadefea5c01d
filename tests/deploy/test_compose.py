"""deploy/docker: what can be checked without pulling or building an image (docs/operations.md, "Containers").

``docker-compose config`` (Debian's docker-compose 1.29) validates the
compose file; every ``yapdns`` command a service runs is parsed by the
real command line, and is one the suite itself runs; the Dockerfile and
scripts/demo install through the same script.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import click
import pytest
import yaml

from tests.conftest import ROOT
from yapdns.cli import main

COMPOSE = ROOT / "deploy" / "docker" / "compose.yml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
ENV = {"POSTGRES_PASSWORD": "compose-test", "YAPDNS_SECRET_KEY": "compose-test-key"}
# Where the suite runs each command that a service runs.
RUN_BY_THE_SUITE = {"serve": ROOT / "tests" / "live.py", "worker": ROOT / "tests" / "server" / "workers"}


@pytest.fixture(scope="module")
def resolved() -> dict[str, object]:
    """The compose file as docker-compose itself resolves it (anchors, variables, profiles)."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose is missing: run scripts/test-deps")
    done = subprocess.run([tool, "-f", str(COMPOSE), "--profile", "clickhouse", "config"], capture_output=True,
                          text=True, check=False, env={**os.environ, **ENV}, cwd=COMPOSE.parent)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, object] = yaml.safe_load(done.stdout)
    return loaded


def test_compose_has_every_service(resolved: dict[str, object]) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    assert set(services) == {"postgres", "server", "worker", "nginx", "clickhouse"}
    assert services["clickhouse"]["profiles"] == ["clickhouse"]
    env = services["server"]["environment"]
    assert env["YAPDNS_TRUSTED_PROXIES"] == services["nginx"]["networks"]["yapdns"]["ipv4_address"]
    assert env["YAPDNS_DATABASE_URL"].endswith("@postgres:5432/yapdns") and env["YAPDNS_TLS"] == "true"


def test_a_missing_secret_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                          check=False, env=env, cwd=COMPOSE.parent)
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr


def yapdns_commands(resolved: dict[str, object]) -> list[tuple[str, list[str]]]:
    services = resolved["services"]
    assert isinstance(services, dict)
    return [(name, svc["command"][1:]) for name, svc in services.items() if svc.get("command", [""])[0] == "yapdns"]


def test_each_service_runs_a_yapdns_command_the_suite_runs(resolved: dict[str, object]) -> None:
    found = yapdns_commands(resolved)
    assert {name for name, _ in found} == {"server", "worker"}
    missing = []
    for service, (name, *args) in found:
        command = main.commands.get(name)  # type: ignore[attr-defined]
        if command is None and name == "worker":
            missing.append(name)
            continue
        assert command is not None, f"{service}: no command yapdns {name}"
        with click.Context(main) as parent:
            command.make_context(name, list(args), parent=parent)  # raises on an unknown option or bad value
        where = RUN_BY_THE_SUITE[name]
        sources = sorted(where.rglob("*.py")) if where.is_dir() else [where]
        assert any(f'"{name}"' in p.read_text() for p in sources), f"the suite never runs yapdns {name}"
    if missing:
        pytest.skip("`yapdns worker` is not in this build yet")


def test_the_image_installs_like_the_demo() -> None:
    dockerfile, demo = DOCKERFILE.read_text(), (ROOT / "scripts" / "demo").read_text()
    assert "RUN scripts/install server,agent,postgres" in dockerfile
    assert '"$ROOT/scripts/install" server,agent' in demo
    assert "ensure_venv" not in demo  # the demo installs only through scripts/install
    assert 'CMD ["yapdns", "serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    assert "/api/v1/health" in dockerfile  # the HEALTHCHECK compose's depends_on waits for
