"""Evidence from a STIX 2.1 bundle, uploaded on the watchlist page in real headless Chromium and with curl against a
real `yapdns serve`: the resolutions are stored once, a second upload of the same file stores nothing, rejects are
reported. The bundle is misp-stix's own (tests/agent/parsers/golden/stix/PROVENANCE.txt). Screenshot in test-artifacts/detection/."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.live import LiveServer
from tests.server.dashboard import browser
from tests.server.detection.test_exchange_samples import EVENT2_STIX
from tests.server.detection.test_import_evidence import BAD_AND_GOOD_STIX
from yapdns.server.dashboard.checks import missing_assets

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts" / "detection"
PASSWORD = "correct horse battery staple"


def port_in_range(server: LiveServer) -> None:
    """Where ``YAPDNS_TEST_PORT_RANGE`` (``low-high``) is set, serve on a free port of that range."""
    low, _, high = os.environ.get("YAPDNS_TEST_PORT_RANGE", "").partition("-")
    for port in range(int(low or 0), int(high or -1) + 1):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                server.port = port
                return


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    assert not missing_assets(), "run scripts/build-dashboard-assets.sh first"
    server = LiveServer(tmp_path_factory.mktemp("evidence") / "data", access_log=False)
    port_in_range(server)
    server.start()
    try:
        server.add_user("ana", "analyst", PASSWORD)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(chromium: Any, live: LiveServer) -> Iterator[Any]:
    with browser.logged_in_page(chromium, live.url, "ana", PASSWORD) as tab:
        yield tab


def upload_on_page(page: Any, live: LiveServer, path: Path, fmt: str) -> str:
    """Upload ``path`` with the page's evidence form; the message the page answers with."""
    page.goto(live.url + "/watchlist", wait_until="load")
    form = page.locator("#evidence-form")
    form.locator("input[type=file]").set_input_files(str(path))
    form.locator("select[name=format]").select_option(fmt)
    with page.expect_navigation(wait_until="load"):
        form.locator("button[type=submit]").click()
    message: str = page.locator("#watchlist-message").inner_text()
    return message


def records(live: LiveServer, token: str, name: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"q": name})
    request = urllib.request.Request(f"{live.url}/api/v1/records?{query}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        found: list[dict[str, Any]] = json.load(reply)["records"]
    return found


def test_the_dashboard_stores_a_bundles_resolutions_once(page: Any, live: LiveServer) -> None:
    first = upload_on_page(page, live, EVENT2_STIX, "stix")
    assert "1 resolutions stored; 0 rejected." in first, first
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evidence-upload.png"), full_page=True)
    assert browser.csp_violations(page) == []
    again = upload_on_page(page, live, EVENT2_STIX, "stix")
    assert "0 resolutions stored, 1 already imported before (skipped)" in again, again
    [record] = records(live, live.query_token(), "circl.lu")
    assert (record["rrname"], record["rrtype"], record["rdata"], record["count"]) == (
        "circl.lu", "A", "149.13.33.14", 1)


def test_the_dashboard_reports_rejected_objects(page: Any, live: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(BAD_AND_GOOD_STIX)
    message = upload_on_page(page, live, path, "stix")
    assert "1 resolutions stored; 2 rejected (dangling_ref: 1, invalid_object: 1)." in message, message


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_uploads_a_bundle_as_evidence_once(live: LiveServer) -> None:
    token = live.query_token("carl")

    def post() -> dict[str, Any]:
        done = subprocess.run(
            ["curl", "-sS", "--fail-with-body", "-H", f"Authorization: Bearer {token}", "-H",
             "Content-Type: application/json", "--data-binary", f"@{EVENT2_STIX}",
             f"{live.url}/api/v1/evidence/import?format=stix"],
            capture_output=True, text=True, check=True, timeout=60,
        )
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    first, second = post(), post()
    assert (first["observations"], first["sensor"], first["rejected"]) == (1, "import/stix", 0)
    assert first["stored"] + first["already_imported"] == 1  # the page's test may have stored it already
    assert (second["stored"], second["already_imported"]) == (0, 1)
