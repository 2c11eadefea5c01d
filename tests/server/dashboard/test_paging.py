"""Search paging, totals, whole-result sorts and the summary view (issue 20)."""

from __future__ import annotations

import re

from django.test import Client

from tests.server.dashboard import flux
from tests.server.dashboard.conftest import NOW, ingest
from tests.server.dashboard.test_pages import section
from yapdns.storage.base import Store


def _follow(client: Client, html: str, link_id: str) -> str:
    found = re.search(rf'id="{link_id}"[^>]*href="([^"]+)"', html)
    assert found is not None, link_id
    return client.get("/search" + found.group(1).replace("&amp;", "&")).content.decode()


def _rdata(html: str) -> list[str]:
    return re.findall(r'<bdi class="ip">([^<]+)</bdi>', section(html, "results"))


def test_previous_and_next_walk_the_cursor_pages(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.flux_observations(NOW))  # type: ignore[arg-type]
    page1 = reader_client.get("/search", {"q": flux.FLUX, "limit": "100"}).content.decode()
    assert "1\u2013100 of" in page1 and 'id="result-count" data-exact="true">260<' in page1
    assert 'id="prev-page"' not in page1
    page2 = _follow(reader_client, page1, "next-page")
    page3 = _follow(reader_client, page2, "next-page")
    assert "201\u2013260 of" in page3 and 'id="next-page"' not in page3
    back2 = _follow(reader_client, page3, "prev-page")
    assert _rdata(back2) == _rdata(page2) and "page 2" in back2
    back1 = _follow(reader_client, back2, "prev-page")
    assert _rdata(back1) == _rdata(page1)
    assert len(set(_rdata(page1)) | set(_rdata(page2)) | set(_rdata(page3))) == 260


def test_sorting_by_count_covers_the_whole_result(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.flux_observations(NOW))  # type: ignore[arg-type]
    html = reader_client.get("/search", {"q": flux.FLUX, "limit": "25", "sort": "-count"}).content.decode()
    assert _rdata(html)[0] == "198.18.2.3"  # the busiest record is on the last store-order page
    latest = reader_client.get("/search", {"q": flux.FLUX, "limit": "25", "sort": "-time_last"}).content.decode()
    assert _rdata(latest)[:2] == ["198.18.2.3", "198.18.2.2"]
    page2 = _follow(reader_client, latest, "next-page")
    assert "26\u201350 of" in page2 and "sorted over the whole result" in page2
    oldest = reader_client.get("/search", {"q": flux.FLUX, "sort": "time_first"}).content.decode()
    assert _rdata(oldest)[0] == "198.18.1.0"


def test_the_summary_view(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.zone_observations(NOW))  # type: ignore[arg-type]
    html = reader_client.get("/search", {"q": f"*.{flux.ZONE}", "view": "summary"}).content.decode()
    assert 'id="summary-names" title="41"' in html
    assert "busy.zone5.test" in section(html, "summary-names-table")
    assert ">edge<" in section(html, "summary-sightings") and ">41<" in section(html, "summary-types")
    ip = reader_client.get("/search", {"q": "198.18.5.0/24", "view": "summary"}).content.decode()
    assert "Names on these addresses" in ip


def test_hostile_paging_parameters_are_refused(loaded: Store, reader_client: Client) -> None:
    for bad in ({"page": "0"}, {"page": "x"}, {"page": "٣"}, {"page": "100001"}, {"view": "<script>"},
                {"prev": "a b"}, {"prev": "x" * 20_000}, {"cursor": "AAAA"}, {"sort": "-count", "page": "5000"}):
        reply = reader_client.get("/search", {"q": "example.com", **bad})
        assert reply.status_code == 400, bad
