"""The release wheel (scripts/build-wheel) installed into a fresh venv serves the dashboard with its charts.

The wheel is built for real (setuptools in pip's isolated build
environment) and installed with ``pip install --no-deps`` into a new venv;
the venv takes its third-party dependencies from the test venv through a
path entry, which keeps the test offline and fast, while yapdns itself, its
data files and its ``yapdns`` command come from the wheel alone. Then the
installed server runs from a directory outside the checkout and serves the
vendored chart libraries, byte for byte, with their versions and licences.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.live import free_port

pytestmark = pytest.mark.slow
VENDOR = ROOT / "src" / "yapdns" / "server" / "dashboard" / "static" / "dashboard" / "vendor"


def run(*args: str | Path, **kw: object) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return str(done.stdout)


def test_a_wheel_installed_in_a_fresh_venv_serves_the_dashboard_assets(tmp_path: Path) -> None:
    wheel = Path(run(ROOT / "scripts" / "build-wheel", tmp_path / "dist").strip().splitlines()[-1])
    assert (VENDOR / "versions.json").is_file()  # build-wheel built them
    inside = {n for n in zipfile.ZipFile(wheel).namelist() if "/vendor/" in n}
    assert {Path(n).name for n in inside} >= {"echarts.min.js", "cytoscape.min.js", "versions.json",
                                               "LICENSE-echarts.txt", "LICENSE-cytoscape.txt"}
    as_data = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if "/enrich/data/" in n}
    assert as_data >= {"asn-ipv4-num.csv.gz", "asn-ipv6-num.csv.gz", "geo-whois-asn-country-ipv4-num.csv.gz",
                       "geo-whois-asn-country-ipv6-num.csv.gz", "source.json", "DBIP-LICENSE.txt"}
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    site = Path(run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # appended after site
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    where = run(venv / "bin" / "python", "-c", "import yapdns; print(yapdns.__file__)", cwd=tmp_path)
    assert where.startswith(str(site)), where

    env = {**os.environ, "YAPDNS_DATA_DIR": str(tmp_path / "data"), "YAPDNS_DATABASE_URL": ""}
    for name in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE"):  # the installed server uses its own settings
        env.pop(name, None)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([venv / "bin" / "yapdns", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(base + "/api/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        for name in ("echarts.min.js", "cytoscape.min.js"):
            reply = httpx.get(f"{base}/static/dashboard/vendor/{name}", timeout=10)
            assert reply.status_code == 200 and reply.content == (VENDOR / name).read_bytes(), name
        versions = httpx.get(base + "/static/dashboard/vendor/versions.json", timeout=10).json()
        lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())["packages"]
        assert versions == {n: lock[f"node_modules/{n}"]["version"] for n in ("echarts", "cytoscape")}
        assert "libraries not installed" not in httpx.get(base + "/login/", timeout=10).text
    finally:
        server.terminate()
        server.wait(20)
        log.close()
