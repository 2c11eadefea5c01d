"""The analyst's workbench in real headless Chromium (issue 20): whole-history pages, zone pages, the overview's
ingest chart, ISO dates with presets. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.server.dashboard import flux
from tests.server.dashboard.live import DashboardServer
from tests.server.dashboard.test_browser import ARTIFACTS, Session, sessions, wait_drawn
from yapdns.server.dashboard import display

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_fast_flux_domain_page_covers_its_whole_history(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "analyst"):
        page = session.go(f"/domain/{flux.FLUX}")
        assert page.locator("#tile-records").get_attribute("title") == "260"
        assert page.locator("#tile-count").get_attribute("title") == "7590"
        last = page.locator("#tile-last time").get_attribute("datetime") or ""
        records_last = max(page.locator("#records td.c-time time").evaluate_all("ns => ns.map(n => n.dateTime)"))
        assert last > records_last  # the header reaches past the table's first page
        assert wait_drawn(page, "#activity-chart") > 2
        assert wait_drawn(page, "#timeline-chart") >= 20
        assert "most recently seen of 260" in (page.locator("#timeline-note").text_content() or "")
        session.shot("domain-flux")
        session.assert_clean()


def test_a_zone_apex_page_shows_its_zone(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "reader"):
        page = session.go(f"/domain/{flux.ZONE}")
        assert page.locator(".eyebrow").first.text_content() == "Zone"
        assert page.locator("#zone-names").get_attribute("title") == "41"
        assert page.locator("#busiest tbody tr").first.locator("bdi").get_attribute("title") == "busy.zone5.test"
        panel = page.locator("#subdomains .scroll-panel").bounding_box()
        assert panel is not None and panel["height"] <= 430  # it scrolls, it does not run on for 5,000 px
        session.shot("zone")
        session.assert_clean()


def test_the_ingest_chart_has_an_axis_per_measure(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.login("admin")
    page = session.go("/")
    wait_drawn(page, "#ingest-chart")
    option = page.evaluate(
        "() => { const c = window.echarts.getInstanceByDom(document.getElementById('ingest-chart')).getOption();"
        " return {grids: c.grid.length, series: c.series.map(s => [s.name, s.stack || null, s.yAxisIndex])}; }"
    )
    assert option["grids"] == 2
    assert all(stack is None for _, stack, _ in option["series"])
    assert ["new records", None, 1] in option["series"]
    assert "(several sensors)" not in [name for name, _, _ in option["series"]]
    session.shot("overview-ingest")
    session.assert_clean()
    session.close()


def test_dates_are_iso_and_presets_fence_the_search(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.login("reader")
    page = session.go("/search?q=example.com")
    page.click("#search-form details.filters summary")
    page.fill("input[name=last_after]", "2000-01-01")
    assert page.locator("input[name=last_after]").input_value() == "2000-01-01"  # typed and shown as ISO
    assert page.locator("input[name=first_after]").get_attribute("placeholder") == "YYYY-MM-DD"
    with page.expect_navigation(wait_until="load"):
        page.click("#since-presets a[data-since='30d']")
    assert "since=30d" in page.url
    assert page.locator("#since-presets a.on").text_content() == "30 d"
    shown = page.locator("#results td.c-rdata").all_text_contents()
    assert any("198.51.100.20" in r for r in shown) and not any("192.0.2.10" in r for r in shown)
    first = page.locator("#results td.c-time").first.text_content() or ""
    assert display.utc(0).strftime("%Y") not in first and first[:4].isdigit() and first[4] == "-"
    session.shot("search-presets")
    session.assert_clean()
    session.close()


def test_paging_sorting_and_the_summary_view(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "reader"):
        page = session.go(f"/search?q={flux.FLUX}&limit=100")
        assert page.locator("#result-count").text_content() == "260"
        first_rows = page.locator("#results td.c-rdata").all_text_contents()
        with page.expect_navigation(wait_until="load"):
            page.click("#next-page")
        assert "101\u2013200 of" in (page.locator("#result-total").text_content() or "")
        with page.expect_navigation(wait_until="load"):
            page.click("#prev-page")
        assert page.locator("#results td.c-rdata").all_text_contents() == first_rows
        with page.expect_navigation(wait_until="load"):
            page.click("#results th a:has-text('Count')")
        assert "sort=-count" in page.url
        counts = [int(c) for c in page.locator("#results td.num").all_text_contents()]
        assert counts[0] == 5000 and counts == sorted(counts, reverse=True)
        session.shot("search-sorted")
        with page.expect_navigation(wait_until="load"):
            page.click("#view-tabs a[data-view='summary']")
        assert wait_drawn(page, "#activity-chart") > 2
        assert page.locator("#summary-types tbody tr").count() == 1
        session.shot("summary")
        page = session.go(f"/search?q=*.{flux.ZONE}&view=summary")
        assert page.locator("#summary-names-table tbody tr").first.locator("bdi").get_attribute("title") == "busy.zone5.test"
        session.shot("summary-zone")
        session.assert_clean()


def test_bulk_search(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "reader"):
        page = session.go("/bulk")
        page.fill("#indicators", "hxxp://www.example[.]com/login\n192.0.2[.]11, evil(.)com\n"
                                 f"{flux.FLUX}\n*.{flux.ZONE}\nnot a name!")
        with page.expect_navigation(wait_until="load"):
            page.click("#bulk-submit")
        known = page.locator("#bulk-results tr.known").evaluate_all("rs => rs.map(r => r.dataset.term)")
        assert known == ["www.example.com", "192.0.2.11", flux.FLUX, f"*.{flux.ZONE}"]
        assert "evil.com" in (page.locator("#bulk-unknown").text_content() or "")
        with page.expect_download() as download:
            page.click("#bulk-form button[data-export='csv']")
        text = download.value.path().read_text()
        assert text.startswith("query,rrname") and "evil.com" in text
        session.shot("bulk")
        session.assert_clean()


def test_notes_and_tags(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.login("analyst")
    page = session.go(f"/domain/{flux.FLUX}")
    page.fill("#tag-form input[name=tag]", "phishing")
    with page.expect_navigation(wait_until="load"):
        page.click("#tag-form button[type=submit]")
    page.fill("#note-form textarea", "Fast flux behind the <b>lure</b> pages; see ticket 7.")
    with page.expect_navigation(wait_until="load"):
        page.click("#note-form button[type=submit]")
    assert page.locator("#tags .tag-chip a").all_text_contents() == ["phishing"]
    assert "<b>lure</b>" in (page.locator("#note-list .note-text").first.text_content() or "")
    page.locator("#notes").scroll_into_view_if_needed()
    session.shot("notes")
    page = session.go("/search?q=tag:phishing")
    assert page.locator(f"#tag-results bdi[title='{flux.FLUX}']").count() == 1
    page = session.go(f"/search?q={flux.FLUX}&limit=25")
    assert page.locator("#results .tag-chip").count() == 25
    page = session.go("/annotations")
    assert page.locator("#audit-log tbody tr").count() >= 2
    session.shot("audit-log")
    session.assert_clean()
    session.close()


def tap(page: Any, elements: str) -> None:
    """Tap cytoscape elements. Returns nothing on purpose: serializing the collection ``emit`` returns takes
    Playwright half a minute."""
    page.evaluate(f"() => {{ {elements}.emit('tap'); }}")


def test_pivot_graph_exports_find_replay_and_pin(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.login("reader")
    page = session.go("/pivot?q=example.com")
    page.wait_for_function("() => Number(document.getElementById('pivot-graph').dataset.nodes) >= 9")
    with page.expect_download() as png:
        page.click("#graph-png")
    exported = ARTIFACTS / "pivot-export.png"
    png.value.save_as(str(exported))
    assert exported.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and exported.stat().st_size > 10_000
    with page.expect_download() as raw:
        page.click("#graph-json")
    data = json.loads(Path(raw.value.path()).read_text())
    assert len(data["nodes"]) >= 9 and {"n:example.com", "ip:192.0.2.11"} <= {n["id"] for n in data["nodes"]}
    edge = data["edges"][0]
    assert {"source", "target", "rrtype", "first", "last", "first_iso", "last_iso", "count"} <= set(edge)
    page.fill("#graph-find", "192.0.2.1")
    assert page.evaluate("window.yapdnsPivot.cy.nodes('.found').length") >= 2
    page.evaluate("document.getElementById('graph-time').value = '1'")
    page.dispatch_event("#graph-time", "input")
    assert page.evaluate("window.yapdnsPivot.cy.edges().filter(e => !e.hasClass('later')).length") == 1
    assert (page.locator("#graph-time-label").text_content() or "")[:2] == "20"  # an ISO date-time
    page.evaluate("document.getElementById('graph-time').value = document.getElementById('graph-time').max")
    page.dispatch_event("#graph-time", "input")
    tap(page, "window.yapdnsPivot.cy.getElementById('ip:192.0.2.11')")
    page.wait_for_selector("#graph-pin:not([hidden])")
    page.click("#graph-pin")
    assert page.evaluate("window.yapdnsPivot.cy.getElementById('ip:192.0.2.11').locked()") is True
    session.shot("pivot-tools")
    session.assert_clean()
    session.close()


def test_copy_buttons(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.context.grant_permissions(["clipboard-read", "clipboard-write"])
    session.login("reader")
    page = session.go("/search?q=*.example.com")
    page.click("#copy-dnsdbq")
    assert page.evaluate("navigator.clipboard.readText()") == "dnsdbq -r '*.example.com' -l 100 -j"
    page.locator("#results td.c-name .copy-btn").first.click()
    assert page.evaluate("navigator.clipboard.readText()").endswith("example.com")
    page = session.go("/domain/example.com")
    for panel in ("#subdomains", "#related"):  # every name in these panels has its button (issue 20)
        names = page.locator(f"{panel} td.c-name")
        assert names.count() > 0 and names.locator(".copy-btn").count() == names.count(), panel
        button = names.locator(".copy-btn").first
        button.click()
        assert page.evaluate("navigator.clipboard.readText()") == button.get_attribute("data-copy-text")
    page = session.go("/ip/192.0.2.11")
    neighbours = page.locator("#neighbours td.mono")
    assert neighbours.count() > 0 and neighbours.locator(".copy-btn").count() == neighbours.count()
    neighbours.locator(".copy-btn").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == neighbours.first.locator(".copy-btn").get_attribute(
        "data-copy-text")
    session.assert_clean()
    session.close()


def test_pivot_graph_folds_busy_nodes_into_counted_groups(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, {"width": 1440, "height": 900})
    session.login("reader")
    page = session.go(f"/pivot?q={flux.FLUX}")
    groups = "window.yapdnsPivot.cy.nodes('[kind = \\'group\\']')"
    page.wait_for_function(f"() => window.yapdnsPivot && {groups}.length == 1")
    label = page.evaluate(f"{groups}.data('label')")
    assert label == "50 addresses"  # one page of the 260 A records
    assert page.evaluate("window.yapdnsPivot.cy.nodes(':visible').length") == 2
    session.shot("pivot-grouped")
    tap(page, groups)
    page.wait_for_function("() => window.yapdnsPivot.cy.nodes(':visible').length == 51")
    session.assert_clean()
    session.close()
