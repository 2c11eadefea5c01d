"""Domain, zone and IP pages describe the whole history, not the records table's current page (issue 20)."""

from __future__ import annotations

import re

from django.test import Client

from tests.server.dashboard import flux
from tests.server.dashboard.conftest import NOW, ingest
from tests.server.dashboard.test_pages import chart_data, section
from yapdns.server.dashboard import correlate, display
from yapdns.storage.base import Store


def _tile(html: str, tile_id: str) -> str:
    found = re.search(rf'id="{tile_id}"[^>]*>(.*?)</span>', html, re.S)
    assert found is not None, tile_id
    return found.group(1)


def test_a_domain_pages_header_and_charts_cover_every_record(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.flux_observations(NOW))  # type: ignore[arg-type]
    html = reader_client.get(f"/domain/{flux.FLUX}").content.decode()
    assert 'title="260"' in html.split('id="tile-records"')[1][:40]
    last = NOW - 300 * flux.DAY + 259 * flux.DAY + 3600  # on 198.18.2.3: past the first page in rdata order
    assert display.utc(last).strftime("%Y-%m-%d %H:%M") in _tile(html, "tile-last")
    assert 'title="7590"' in html.split('id="tile-count"')[1][:40]  # 259 x 10 + 5000
    activity = chart_data(html)["activity"]
    assert isinstance(activity, dict)
    assert sum(activity["new"]) == 260 and all(n >= 1 for n in activity["active"])  # no gap in the chart
    labels = [r["label"] for r in chart_data(html)["timeline"]]  # type: ignore[union-attr]
    assert labels[0] == "A 198.18.2.3" and len(labels) == 200
    assert "the 200 most recently seen of 260" in section(html, "timeline-note")
    assert section(html, "records").count("detail-link") == 200  # the table still pages


def test_a_zone_apex_summarises_its_subtree(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.zone_observations(NOW))  # type: ignore[arg-type]
    html = reader_client.get(f"/domain/{flux.ZONE}").content.decode()
    assert '<div class="eyebrow">Zone</div>' in html
    zone = section(html, "zone")
    assert 'title="41"' in zone.split('id="zone-names"')[1][:30]
    assert display.utc(NOW - 3600).strftime("%Y-%m-%d %H:%M") in _tile(zone, "zone-last")
    busiest = zone.split('id="busiest"')[1]
    assert busiest.index("busy.zone5.test") < busiest.index("h0.zone5.test")
    assert "Next" not in section(html, "subdomains")  # 41 names fit one page
    assert "scroll-panel" in section(html, "subdomains")


def test_subdomains_page_with_a_cursor(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.zone_observations(NOW))  # type: ignore[arg-type]
    first = correlate.subdomain_page(store, flux.ZONE)
    assert first.first and first.next_cursor is None and len(first.groups) == 41
    assert reader_client.get(f"/domain/{flux.ZONE}", {"sub": "not-a-cursor"}).status_code == 400


def test_an_ip_page_counts_every_name(store: Store, reader_client: Client) -> None:
    ingest(store, "edge", flux.zone_observations(NOW))  # type: ignore[arg-type]
    html = reader_client.get("/ip/198.18.5.200").content.decode()
    assert 'title="1"' in html.split('id="tile-names"')[1][:30]
    assert "busy.zone5.test" in section(html, "ip-names")


def test_the_ingest_chart_leaves_out_empty_series() -> None:
    from yapdns.server.dashboard import summaries
    from yapdns.storage.base import IngestBucket

    hour = NOW - NOW % 3600
    series = summaries.ingest_series([IngestBucket(hour, "edge/a", 500, 40), IngestBucket(hour, "", 0, 0)], NOW)
    assert [s["name"] for s in series["series"]] == ["edge"]
    assert series["new_records"][-1] == 40


def test_dates_are_iso_text_with_presets(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/search", {"q": "example.com"}).content.decode()
    assert 'type="date"' not in html and 'placeholder="YYYY-MM-DD"' in html
    assert re.findall(r'data-since="([^"]+)"', html) == ["24h", "7d", "30d", "1y", "all"]
    recent = reader_client.get("/search", {"q": "example.com", "since": "30d"}).content.decode()
    assert "198.51.100.20" in section(recent, "results") and "192.0.2.10" not in section(recent, "results")
    everything = reader_client.get("/search", {"q": "example.com", "since": "all"}).content.decode()
    assert "192.0.2.10" in section(everything, "results")
    for hostile in ({"since": "5y"}, {"since": "<x>"}, {"first_after": "12/31/2026"}, {"last_before": "2026-13-01"}):
        assert reader_client.get("/search", {"q": "example.com", **hostile}).status_code == 400, hostile
