"""Pages read a name's and a zone's whole-history figures from the per-name rollup (issue 20): exact past the
scan bound that the charts still use, which these tests lower to a few records so a small store crosses it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.server.dashboard import flux
from tests.server.dashboard.conftest import NOW, ingest
from tests.server.dashboard.test_pages import section
from yapdns.server.dashboard import history
from yapdns.server.dashboard.views import bulk, domain, search
from yapdns.storage.base import Store

SCAN = 50  # fewer than the flux name's 260 records


@pytest.fixture
def small_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "HISTORY_SCAN", SCAN)
    monkeypatch.setattr(search, "SCAN_MAX", SCAN)
    monkeypatch.setattr(search, "COUNT_MAX", SCAN)
    monkeypatch.setattr(bulk, "SUMMARY_SCAN", SCAN)
    monkeypatch.setattr(domain, "ZONE_SCAN", SCAN, raising=False)  # the zone card's bound before the rollup


@pytest.fixture
def fluxed(store: Store, small_scan: None) -> Store:
    ingest(store, "edge", flux.flux_observations(NOW))  # type: ignore[arg-type]
    ingest(store, "edge", flux.zone_observations(NOW))  # type: ignore[arg-type]
    return store


def _title(html: str, tile_id: str) -> str:
    found = re.search(rf'id="{tile_id}" title="([^"]*)">([^<]*)<', html)
    assert found is not None, tile_id
    return f"{found.group(1)}|{found.group(2)}"


def test_a_fast_flux_header_is_exact_past_the_scan_bound(fluxed: Store, reader_client: Client) -> None:
    html = reader_client.get(f"/domain/{flux.FLUX}").content.decode()
    assert _title(html, "tile-records") == "260|260"  # not "at least 50|50+"
    assert _title(html, "tile-count") == "7590|7.6k"
    assert 'id="summary-limited"' not in html
    assert f"the first {SCAN} records read of 260" in section(html, "activity-note")
    seen = section(html, "sensors")
    assert "edge" in seen and ">7590<" in seen  # the "Seen by" panel sums every record, from the rollup


def test_a_zone_card_is_exact_past_the_scan_bound(fluxed: Store, reader_client: Client) -> None:
    html = reader_client.get(f"/domain/{flux.ZONE}").content.decode()
    zone = section(html, "zone")
    names = len({o.rrname for o in flux.zone_observations(NOW) if o.rrname.endswith(f".{flux.ZONE}")})
    assert _title(zone, "zone-names") == f"{names}|{names}"
    assert "at least" not in zone and "+" not in zone.split('id="zone-records"')[1][:60]


def test_the_summary_view_and_total_of_a_name_are_exact(fluxed: Store, reader_client: Client) -> None:
    html = reader_client.get("/search", {"q": flux.FLUX, "view": "summary"}).content.decode()
    assert _title(html, "tile-records") == "260|260" and 'id="summary-limited"' not in html
    assert "the first records read only" in section(html, "activity-note")
    sightings = section(html, "summary-sightings")
    assert "edge" in sightings and "7,590" in sightings
    listed = reader_client.get("/search", {"q": flux.FLUX}).content.decode()
    assert 'data-exact="true">260</span>' in listed
    ranked = reader_client.get("/search", {"q": flux.FLUX, "sort": "-count"}).content.decode()
    assert f"(its first {SCAN})" in ranked  # a whole-result sort still reads the first records only, and says so


def test_a_bulk_row_of_a_big_name_is_exact(fluxed: Store, reader_client: Client) -> None:
    html = reader_client.post("/bulk", {"indicators": f"{flux.FLUX}\n"}).content.decode()
    row = section(html, "bulk-results").split(f'data-term="{flux.FLUX}"')[1].split("</tr>")[0]
    assert ">260<" in row and "260+" not in row and "7,590" in row
