"""End to end in real headless Chromium against ``yapdns serve``, with data ingested over HTTP.

Screenshots (desktop and mobile widths) go to test-artifacts/dashboard/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT
from tests.server.dashboard import browser, dataset
from tests.server.dashboard.live import PASSWORD, DashboardServer
from yapdns.core.batch import encode_ndjson
from yapdns.core.model import Observation

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"

playwright_api = pytest.importorskip("playwright.sync_api")
if not browser.CHROMIUM.exists():
    pytest.skip("needs /usr/bin/chromium (scripts/test-deps-browser.sh)", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _artifacts() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


class Session:
    """A logged-in (or not) browser context with its watch."""

    def __init__(self, chromium: Any, live: DashboardServer, viewport: dict[str, int], headers: dict[str, str] | None = None):
        self.live = live
        self.context = chromium.new_context(viewport=viewport, extra_http_headers=headers or {})
        self.context.add_init_script(browser.WATCH)
        self.page = self.context.new_page()
        self.watch = browser.Watch()
        self.watch.attach(self.page)
        self.mobile = viewport["width"] < 600

    def go(self, path: str) -> Any:
        self.page.goto(self.live.url + path, wait_until="load")
        return self.page

    def login(self, username: str, password: str = PASSWORD) -> Any:
        self.go("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation(wait_until="load"):
            self.page.click("button[type=submit]")
        return self.page

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}-{'mobile' if self.mobile else 'desktop'}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000  # a drawn page, not a blank one
        return path

    def assert_clean(self) -> None:
        assert self.watch.dialogs == [], self.watch.dialogs
        assert self.watch.errors == [], self.watch.errors
        assert browser.csp_violations(self.page) == []
        assert self.page.evaluate("window.__xss") is None

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def desktop(chromium: Any, live: DashboardServer) -> Iterator[Session]:
    session = Session(chromium, live, browser.DESKTOP)
    yield session
    session.close()


def sessions(chromium: Any, live: DashboardServer, username: str) -> Iterator[Session]:
    for viewport in (browser.DESKTOP, browser.MOBILE):
        session = Session(chromium, live, viewport)
        session.login(username)
        try:
            yield session
        finally:
            session.close()


def test_login_and_logout(desktop: Session) -> None:
    page = desktop.go("/search?q=example.com")
    assert page.url.startswith(desktop.live.url + "/login/")
    desktop.shot("login")
    desktop.login("analyst", "not the password")
    assert page.locator("#login-error").is_visible()
    desktop.login("analyst")
    assert page.locator(".uname").text_content() == "analyst"
    page.click("#logout")
    page.wait_for_load_state("networkidle")
    assert "/login/" in page.url
    desktop.go("/")
    assert "/login/" in page.url
    desktop.assert_clean()


SEARCHES = [
    ("example.com", "name", "mail.example.com"),
    ("*.example.com", "suffix", "login.example.com"),
    ("www.example.*", "prefix", "www.example.com"),
    ("192.0.2.11", "ip", "evil-login.example.org"),
    ("192.0.2.0/24", "cidr", "neighbour.example.net"),
    ("2001:db8:10::/48", "cidr", "v6-neighbour.example.net"),
    ("rdata:example.com", "rdata", "www.example.com"),
    (f"sample:{dataset.SAMPLE}", "sample", "beacon.example.net"),
]


def test_every_search_kind(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "reader"):
        for text, kind, expected in SEARCHES:
            page = session.go("/search")
            page.fill("#q", text)
            with page.expect_navigation(wait_until="load"):
                page.click("#search-form button[type=submit]")
            assert page.locator("#search-kind").get_attribute("data-kind") == kind, text
            assert page.locator(f'#results bdi[title="{expected}"]').count() >= 1, text
            shared = page.url
            assert "q=" in shared
            again = session.go(shared.removeprefix(live.url))  # the URL alone reproduces the search
            assert again.locator(f'#results bdi[title="{expected}"]').count() >= 1
        page = session.go("/search?q=*.example.com&sort=-count")
        session.shot("search")
        csv = session.context.request.get(live.url + page.locator('[data-export="csv"]').get_attribute("href"))
        assert csv.status == 200 and "www.example.com" in csv.text()
        session.assert_clean()


def wait_drawn(page: Any, selector: str) -> int:
    """Wait for a chart to be drawn; return how many SVG shapes it has."""
    page.wait_for_selector(f'{selector}[data-drawn="true"] svg', timeout=15_000)
    shapes: int = page.locator(f"{selector} svg path, {selector} svg rect").count()
    return shapes


def test_domain_page_draws_its_timeline_and_charts(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "analyst"):
        page = session.go("/domain/example.com")
        assert wait_drawn(page, "#timeline-chart") >= 8  # one bar per record at least
        assert wait_drawn(page, "#activity-chart") > 2
        labels = page.locator("#timeline-chart svg text").all_text_contents()
        assert "A 192.0.2.10" in labels
        assert page.locator("#related bdi[title='evil-login.example.org']").count() == 1
        assert page.locator("#negatives .rcode").all_text_contents().count("NXDOMAIN") == 1
        assert page.locator(f"#samples a:has-text('{dataset.SAMPLE}')").count() == 1
        page.hover("#timeline-chart svg path >> nth=-1")
        session.shot("domain")
        session.go("/domain/xn--bcher-kva.example")
        assert "bücher.example" in (page.locator("#entity-name").text_content() or "")
        session.shot("domain-idn")
        session.assert_clean()


def test_ip_page(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "analyst"):
        page = session.go("/ip/192.0.2.11")
        assert wait_drawn(page, "#timeline-chart") >= 3
        labels = page.locator("#timeline-chart svg text").all_text_contents()
        shown = [label.removesuffix("...").removesuffix("…") for label in labels]  # long labels are truncated
        for name in ("example.com", "login.example.com", "evil-login.example.org"):
            assert any(label and name.startswith(label) for label in shown), (name, labels)
        assert page.locator("#neighbours a.ip-link").count() >= 4
        session.shot("ip")
        page.locator("#records a.detail-link").first.click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#provenance tbody tr").count() >= 1
        session.shot("record")
        session.assert_clean()


def test_overview_charts(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "admin"):
        page = session.go("/")
        assert wait_drawn(page, "#ingest-chart") > 2
        assert wait_drawn(page, "#types-chart") >= 6
        assert page.locator("#new-names bdi[title='fresh-domain.example']").count() == 1
        assert page.locator("#sensor-health tbody tr").count() >= 2
        session.shot("overview")
        session.assert_clean()


def node_count(page: Any) -> int:
    return int(page.locator("#pivot-graph").get_attribute("data-nodes") or 0)


_FREE_POINTS = """(id) => {
  const cy = window.yapdnsPivot.cy;
  const target = cy.getElementById(id);
  const box = target.renderedBoundingBox({ includeLabels: false });
  const others = cy.nodes().not(target).map((n) => n.renderedBoundingBox({ includeLabels: false }));
  const points = [];
  for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) {
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      const x = box.x1 + fx * box.w, y = box.y1 + fy * box.h;
      if (!others.some((b) => x >= b.x1 && x <= b.x2 && y >= b.y1 && y <= b.y2)) points.push([x, y]);
    }
  }
  return points;
}"""
_TAPPED = """(id) => window.yapdnsPivot.cy.getElementById(id).data('expanded') === true
  || document.getElementById('graph-status').textContent.startsWith('Loading')"""


def click_node(page: Any, node_id: str) -> None:
    """A real mouse click that expands a node, on a point of it that no other node covers.

    Each point is scrolled to the middle of the window first (scrolling the graph merely into view can leave
    the node under the sticky top bar). An edge's arrow can still take a click near a small node: then the
    next point of the node is tried.
    """
    points = page.evaluate(_FREE_POINTS, node_id)
    assert points, f"{node_id} is covered by other nodes"
    for x, y in points:
        box = page.locator("#pivot-graph").bounding_box()
        page.evaluate("(dy) => window.scrollBy(0, dy)", box["y"] + y - page.viewport_size["height"] / 2)
        box = page.locator("#pivot-graph").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_function(_TAPPED, arg=node_id, timeout=3000)
            return
        except playwright_api.TimeoutError:
            continue  # the click went to an edge (its details are shown): try another point of the node
    raise AssertionError(f"no click on {node_id} reached it: {page.locator('#graph-detail').text_content()}")


def test_pivot_graph_expands(chromium: Any, live: DashboardServer) -> None:
    for session in sessions(chromium, live, "reader"):
        page = session.go("/pivot?q=example.com")
        page.wait_for_function("() => Number(document.getElementById('pivot-graph').dataset.nodes) >= 9")
        before = node_count(page)
        assert page.locator("#pivot-graph canvas").count() >= 1
        click_node(page, "ip:192.0.2.11")
        try:
            page.wait_for_function("(n) => Number(document.getElementById('pivot-graph').dataset.nodes) > n", arg=before)
        except playwright_api.TimeoutError:
            state = page.evaluate(
                "() => ({status: document.getElementById('graph-status')?.textContent,"
                " detail: document.getElementById('graph-detail')?.textContent,"
                " expanded: window.yapdnsPivot.cy.getElementById('ip:192.0.2.11').data('expanded'),"
                " nodes: window.yapdnsPivot.cy.nodes().map((n) => n.id())})"
            )
            session.shot("pivot-timeout")
            raise AssertionError(f"the graph did not grow after the click ({'mobile' if session.mobile else 'desktop'}): {state}") from None
        ids = page.evaluate("window.yapdnsPivot.cy.nodes().map((n) => n.id())")
        assert {"n:login.example.com", "n:evil-login.example.org"} <= set(ids)
        assert "192.0.2.11" in (page.locator("#graph-detail").text_content() or "")
        session.shot("pivot")
        session.assert_clean()


def ingest_with(live: DashboardServer, token: str) -> int:
    body = encode_ndjson([Observation(rrname="token-check.example", rrtype="A", rdata=("192.0.2.200",),
                                      time_first=1_700_000_000, time_last=1_700_000_000)])
    reply = httpx.post(f"{live.url}/api/v1/ingest", content=body, timeout=30,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    return reply.status_code


def test_create_and_revoke_a_sensor_token(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, browser.DESKTOP)
    session.login("analyst")
    page = session.go("/manage/sensors")
    page.fill("input[name=name]", "browser-sensor")
    page.fill("input[name=description]", "made by the browser test")
    page.click("#sensor-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    token = page.locator("#new-token").input_value()
    assert token.startswith("ys_")
    session.shot("sensor-created")
    assert ingest_with(live, token) == 200
    page = session.go("/manage/sensors/browser-sensor")
    assert token not in page.content()  # shown once only
    page.click("#token-table details.confirm summary")
    page.click("#token-table details.confirm button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#token-table .st-revoked").count() == 1
    session.shot("sensor-revoked")
    assert ingest_with(live, token) == 401
    session.assert_clean()
    session.close()


def test_management_pages_on_mobile(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, browser.MOBILE)
    session.login("admin")
    for name, path in (("sensors", "/manage/sensors"), ("users", "/manage/users"), ("tokens", "/manage/tokens")):
        session.go(path)
        session.shot(name)
    session.assert_clean()
    session.close()


XSS_PAGES = [
    "/search?q=*.xss.example",
    "/search?q=203.0.113.0/24",
    "/domain/txt.xss.example",
    "/domain/quote.xss.example",
    "/ip/203.0.113.66",
    "/?new=week",
    "/pivot?q=quote.xss.example",
]


def test_hostile_data_does_not_execute(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, browser.DESKTOP)
    session.login("reader")
    for path in XSS_PAGES:
        page = session.go(path)
        for chart in page.locator("[data-chart] svg path").all()[:10]:
            chart.hover(force=True)  # tooltips are built from data too
        page.wait_for_timeout(200)
        assert page.evaluate("window.__xss") is None, path
    page = session.go("/search?q=*.xss.example")
    text = page.locator("#results").inner_text()
    assert "<img src=x onerror=" in text  # shown as text, not markup
    assert page.locator("#results img").count() == 0
    session.shot("xss")
    session.assert_clean()
    session.close()


def test_csrf_is_enforced(chromium: Any, live: DashboardServer) -> None:
    session = Session(chromium, live, browser.DESKTOP)
    session.login("admin")
    forged = session.context.request.post(live.url + "/manage/sensors", form={"name": "forged"})
    assert forged.status == 403
    forged_logout = session.context.request.post(live.url + "/logout/")
    assert forged_logout.status == 403
    page = session.go("/manage/sensors")
    assert "forged" not in page.content()
    session.close()


def test_login_rate_limit(chromium: Any, live: DashboardServer) -> None:
    # The test plays a trusted proxy (YAPDNS_TRUSTED_PROXIES) naming the client in X-Forwarded-For, so this
    # lock-out does not lock the other tests.
    session = Session(chromium, live, browser.DESKTOP, headers={"X-Forwarded-For": "198.51.100.77"})
    for attempt in range(1, 6):
        page = session.login("victim", f"wrong-{attempt}")
        locked = page.locator("#locked-out").count() == 1
        assert locked == (attempt == 5), attempt
    page = session.login("analyst")  # the right password of another account, from the locked address
    assert page.locator("#locked-out").count() == 1
    session.shot("locked-out")
    session.close()
    other = Session(chromium, live, browser.DESKTOP, headers={"X-Forwarded-For": "198.51.100.78"})
    # the account is not locked from elsewhere: nobody can lock its owner out by failing from another address
    assert other.login("victim").locator(".uname").text_content() == "victim"
    other.close()
