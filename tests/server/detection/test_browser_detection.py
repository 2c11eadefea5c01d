"""The detection pages in real headless Chromium: newly observed names, alerts (acknowledge, assign, comment), a
fast-flux domain page, over real fast-flux-like data (BIND rotating short-TTL records, resolved by unbound), and a
re-pointed alias's domain page.
Screenshots go to test-artifacts/detection/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.live import LiveServer
from tests.server.dashboard import browser
from tests.server.dashboard.test_browser import wait_drawn
from tests.server.detection import fluxlab
from yapdns.core.model import Observation
from yapdns.server.dashboard.checks import missing_assets

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts" / "detection"
PASSWORD = "correct horse battery staple"
ROUNDS = 4
FLUX_NAME = f"www.{fluxlab.ZONE}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server: an analyst, a watchlist entry and a NOD entry, the lab's answers ingested, one jobs round."""
    assert not missing_assets(), "run scripts/build-dashboard-assets.sh first"
    resolutions = fluxlab.resolve_rotating(tmp_path_factory.mktemp("fluxlab"), ROUNDS)
    server = LiveServer(tmp_path_factory.mktemp("detection") / "data", access_log=False).start()
    try:
        server.add_user("ana", "analyst", PASSWORD)
        server.cli("detection", "watch", f"*.{fluxlab.ZONE}", "--label", "flux lab", "--tlp", "amber")
        server.cli("detection", "watch", f"nod:{fluxlab.ZONE}")
        server.cli("detection", "jobs", "--once")  # the NOD watch starts at the store's end: before the data
        server.ingest(server.sensor_token("lab-resolver"), resolutions)  # type: ignore[arg-type]
        server.cli("detection", "jobs", "--once")  # NOD alerts and the flux rescoring
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(chromium: Any, live: LiveServer) -> Iterator[Any]:
    """One logged-in analyst page in the shared browser, for the module's tests."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browser.logged_in_page(chromium, live.url, "ana", PASSWORD) as tab:
        yield tab


def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a drawn page, not a blank one
    assert browser.csp_violations(page) == []
    return path


def go(page: Any, live: LiveServer, path: str) -> Any:
    page.goto(live.url + path, wait_until="load")
    return page


def names(page: Any, selector: str) -> list[str]:
    """The names shown (as stored: each name's ``bdi`` title) in the cells ``selector``."""
    found: list[str] = page.locator(f"{selector} bdi.dn").evaluate_all("ns => ns.map(n => n.title)")
    return found


def test_the_nod_page_lists_the_new_names_and_filters(page: Any, live: LiveServer) -> None:
    go(page, live, "/nod")
    shown = names(page, "#nod-table td.c-name a")
    assert {FLUX_NAME, f"stable.{fluxlab.ZONE}", f"cdn.{fluxlab.ZONE}", fluxlab.ZONE} <= set(shown)
    page.select_option("#nod-filter select[name=level]", "domain")
    page.fill("#nod-filter input[name=within]", fluxlab.ZONE)
    with page.expect_navigation(wait_until="load"):
        page.click("#nod-filter button[type=submit]")
    assert names(page, "#nod-table td.c-name:first-child a") == [fluxlab.ZONE]
    go(page, live, f"/nod?within=stable.{fluxlab.ZONE}")
    assert names(page, "#nod-table td.c-name:first-child a") == [f"stable.{fluxlab.ZONE}"]
    go(page, live, "/nod")
    since = page.locator("#nod-filter input[name=since]")
    assert since.get_attribute("type") == "text" and since.get_attribute("placeholder") == "YYYY-MM-DD"  # ISO
    since.fill("2000-01-01")
    with page.expect_navigation(wait_until="load"):
        page.click("#nod-filter button[type=submit]")
    assert "since=2000-01-01" in page.url and FLUX_NAME in names(page, "#nod-table td.c-name a")
    go(page, live, "/nod")
    shot(page, "nod")


def _row(page: Any, rrname: str) -> Any:
    return page.locator("#alert-table tbody tr", has=page.locator(f"a.c-name bdi[title='{rrname}']")).first


def test_the_alerts_page_acknowledges_assigns_and_comments(page: Any, live: LiveServer) -> None:
    go(page, live, "/alerts")
    alerted = set(names(page, "#alert-table a.c-name"))
    assert {FLUX_NAME, f"stable.{fluxlab.ZONE}", f"cdn.{fluxlab.ZONE}"} <= alerted
    row = _row(page, f"stable.{fluxlab.ZONE}")
    assert row.locator(".status").text_content() == "open"
    with page.expect_navigation(wait_until="load"):
        row.locator("button[value=acknowledge]").click()
    row = _row(page, f"stable.{fluxlab.ZONE}")
    assert row.locator(".status").text_content() == "acknowledged"
    with page.expect_navigation(wait_until="load"):
        row.locator("button[value=assign]").click()
    row = _row(page, f"stable.{fluxlab.ZONE}")
    assert "ana" in (row.locator("td").nth(6).text_content() or "")
    row.locator("input[name=comment]").fill("<b>looked</b>: lab resolver, expected")
    with page.expect_navigation(wait_until="load"):
        row.locator("button[value=comment]").click()
    row = _row(page, f"stable.{fluxlab.ZONE}")
    assert "ana: <b>looked</b>: lab resolver, expected" in (row.locator("td").first.inner_text() or "")
    page.select_option("#alert-filter select[name=status]", "acknowledged")
    with page.expect_navigation(wait_until="load"):
        page.click("#alert-filter button[type=submit]")
    assert names(page, "#alert-table a.c-name") == [f"stable.{fluxlab.ZONE}"]
    go(page, live, "/alerts")
    shot(page, "alerts")
    with page.expect_navigation(wait_until="load"):
        _row(page, FLUX_NAME).locator("a.c-name").click()  # each alert links to its record
    assert FLUX_NAME in page.url


def test_a_fast_flux_domain_page_shows_the_score(page: Any, live: LiveServer) -> None:
    go(page, live, f"/domain/{FLUX_NAME}")
    tile = page.locator("#flux-tile")
    assert "fast-flux" in (tile.locator(".badge.flux").text_content() or "")
    assert f"{ROUNDS * fluxlab.PER_ROUND} addresses" in (tile.text_content() or "")
    assert wait_drawn(page, "#timeline-chart") > 0  # the chart library is there and drew the history
    shot(page, "domain-fast-flux")
    go(page, live, f"/domain/stable.{fluxlab.ZONE}")
    assert page.locator("#flux-tile .badge.flux").count() == 0
    go(page, live, "/suspicious")
    assert FLUX_NAME in (page.locator("main").text_content() or "")


def test_a_repointed_alias_says_through_which_cnames(page: Any, live: LiveServer) -> None:
    """An alias that CNAMEd to a hoster for 90 days and now to a target in another network (a takeover)."""
    now, day = int(time.time()), 86400

    def seen(name: str, rrtype: str, rdata: str, first: int, last: int) -> Observation:
        return Observation(rrname=name, rrtype=rrtype, rdata=(rdata,), time_first=first, time_last=last, count=3)

    live.ingest(live.sensor_token("repoint"), [
        seen("lb.hoster.example", "A", "192.0.2.10", now - 100 * day, now - day),
        seen("shop.repoint.example", "CNAME", "lb.hoster.example", now - 90 * day, now - 8 * day),
        seen("takeover.attacker.example", "A", "198.51.100.66", now - 20 * day, now - 60),
        seen("shop.repoint.example", "CNAME", "takeover.attacker.example", now - 2 * day, now - 60),
    ])
    go(page, live, "/domain/shop.repoint.example")
    tile = page.locator("#repoint-tile")
    assert "re-pointed" in (tile.locator(".badge.flux").text_content() or "")
    text = " ".join((tile.text_content() or "").split())
    assert "198.51.0.0/16" in text and "via CNAME lb.hoster.example, takeover.attacker.example" in text, text
    shot(page, "domain-repointed-alias")
