"""Address context in real headless Chromium: the IP page's "Who announced it, and where", the AS and country
badges, the domain page's breakdown by AS, and the pivot graph's address colours by AS or country.

Its own ``yapdns serve`` with public addresses of four ASes, enriched by a real ``yapdns worker --batch`` with
the built-in data (the ip-location-db AS numbers and countries), so what the browser shows
is what the worker kept. Screenshots go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.live import LiveServer
from tests.server.dashboard import browser
from tests.server.dashboard.live import PASSWORD
from tests.server.dashboard.test_browser import Session, sessions
from yapdns.core.model import Observation

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FLUX = "cdn.flux.example"
ADDRESSES = {  # address: its AS in the built-in data of 2026-06-17
    "1.1.1.1": 13335, "1.0.0.1": 13335, "2606:4700:4700::1111": 13335, "8.8.8.8": 15169, "8.8.4.4": 15169,
    "9.9.9.9": 19281, "193.0.6.139": 3333,
}


def _observations(now: int) -> list[Observation]:
    found = [Observation(rrname=FLUX, rrtype="AAAA" if ":" in ip else "A", rdata=(ip,), time_first=now - 3600 * i,
                         time_last=now - 60 * i, count=3 + i) for i, ip in enumerate(ADDRESSES)]
    found.append(Observation(rrname="one.one.example", rrtype="A", rdata=("1.1.1.1",), time_first=now - 86_400,
                             time_last=now, count=2))
    return found


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("enriched") / "data", access_log=False) as server:
        server.add_user("analyst", "analyst", PASSWORD)
        server.ingest(server.sensor_token("edge"), _observations(int(time.time())))
        server.cli("worker", "--batch")  # runs what is due: the enrichment job among them
        yield server


def test_the_ip_page_shows_who_announced_it_and_where(chromium: Any, enriched: LiveServer) -> None:
    for session in sessions(chromium, enriched, "analyst"):  # type: ignore[arg-type]
        page = session.go("/ip/1.1.1.1")
        panel = page.locator("#announced")
        rows = panel.locator("tbody tr").all_text_contents()
        assert any("ip-location-db AS" in r and "AS13335" in r and "Cloudflare, Inc." in r for r in rows), rows
        assert any("ip-location-db country" in r and "AU" in r for r in rows), rows
        assert panel.locator("a[href='/search?q=asn%3A13335']").count() >= 1
        assert panel.locator("a[href='https://db-ip.com']").text_content() == "IP Geolocation by DB-IP"
        assert panel.locator("a[href='https://www.nro.net']").count() == 1
        tiles = dict(zip(page.locator(".tile-context .tile-label").all_text_contents(),
                         page.locator(".tile-context .tile-value").all_text_contents(), strict=True))
        assert (tiles["AS"], tiles["Country"]) == ("AS13335", "AU")
        assert page.locator("#records .ctx-badge").first.text_content() == "AS13335 · AU"
        panel.scroll_into_view_if_needed()
        session.shot("ip-announced")
        session.assert_clean()


def test_the_domain_page_breaks_addresses_down_by_as(chromium: Any, enriched: LiveServer) -> None:
    session = Session(chromium, enriched, browser.DESKTOP)  # type: ignore[arg-type]
    try:
        session.login("analyst")
        page = session.go(f"/domain/{FLUX}")
        head = page.locator("#by-as .card-head").text_content() or ""
        assert "4 ASes" in head
        labels = page.locator("#by-as tbody tr td:first-child").all_text_contents()
        assert labels[0] == "AS13335 Cloudflare, Inc."  # three addresses: the first
        assert {label.split()[0] for label in labels} == {"AS13335", "AS15169", "AS19281", "AS3333"}
        badges = page.locator("#records .ctx-badge").all_text_contents()
        assert "AS15169 · US" in badges and "AS3333 · NL" in badges
        session.shot("domain-by-as")
        session.assert_clean()
    finally:
        session.close()


_TINTS = """() => window.yapdnsPivot.cy.nodes("[kind = 'ip']").map((n) => [n.data('value'), n.data('asn') ?? null,
  n.data('country') ?? null, n.data('tint') ?? null, n.style('background-color')])"""


def _distinct_per_key(rows: list[list[Any]], key: int) -> None:
    """One colour per key, a different one for each key; keyless nodes keep the plain address colour."""
    tints: dict[Any, set[str]] = {}
    for row in rows:
        tints.setdefault(row[key], set()).add(row[3])
    assert tints.pop(None, {None}) == {None}
    assert all(len(t) == 1 for t in tints.values()), tints
    assert len({next(iter(t)) for t in tints.values()}) == len(tints), tints


def test_the_pivot_graph_colours_addresses_by_as_or_country(chromium: Any, enriched: LiveServer) -> None:
    session = Session(chromium, enriched, browser.DESKTOP)  # type: ignore[arg-type]
    try:
        session.login("analyst")
        page = session.go(f"/pivot?q={FLUX}")
        page.wait_for_function("() => Number(document.getElementById('pivot-graph').dataset.nodes) >= 8")
        rows = page.evaluate(_TINTS)
        assert {r[0]: r[1] for r in rows} == ADDRESSES
        _distinct_per_key(rows, 1)
        for _, _, _, tint, drawn in rows:  # Cytoscape draws the colour it was given (as rgb())
            assert drawn == "rgb({},{},{})".format(*(int(tint[i:i + 2], 16) for i in (1, 3, 5))), (tint, drawn)
        legend = page.locator("#graph-tint-legend .tint-item").all_text_contents()
        assert legend[0] == "AS13335 Cloudflare, Inc. 3" and len(legend) == 4
        page.locator("#graph-tint-legend").scroll_into_view_if_needed()
        session.shot("pivot-by-as")
        page.select_option("#graph-tint", "country")
        by_country = page.evaluate(_TINTS)
        _distinct_per_key(by_country, 2)
        countries = [r[2] for r in by_country]
        assert {"AU", "US", "NL"} <= set(countries)
        assert sorted(page.locator("#graph-tint-legend .tint-item").all_text_contents()) == \
            sorted(f"{cc} {countries.count(cc)}" for cc in set(countries))
        page.select_option("#graph-tint", "none")
        assert all(r[3] is None for r in page.evaluate(_TINTS))
        assert page.locator("#graph-tint-legend").is_hidden()
        page.evaluate("() => { window.yapdnsPivot.cy.getElementById('ip:8.8.8.8').emit('tap'); }")
        page.wait_for_function("() => document.getElementById('graph-detail').textContent.includes('AS15169')")
        assert "AS15169 Google LLC · US" in (page.locator("#graph-detail").text_content() or "")
        session.assert_clean()
    finally:
        session.close()
