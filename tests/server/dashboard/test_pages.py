"""Domain, IP, record and overview pages over the test investigation, and hostile data rendered inert."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from django.test import Client

from tests.server.dashboard import dataset
from tests.server.dashboard.conftest import NOW, ingest
from tests.server.dashboard.dataset import DAY
from yapdns.core.model import Evidence, Observation
from yapdns.server.dashboard import display, enrichment
from yapdns.server.dashboard.enrichment import IpContext
from yapdns.storage.base import Store


def chart_data(html: str) -> dict[str, object]:
    found = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_domain_page_correlates(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/domain/example.com").content.decode()
    assert "198.51.100.20" in section(html, "records") and "ns1.example.net" in section(html, "records")
    assert "www.example.com" in section(html, "subdomains") and "cdn.example.com" in section(html, "subdomains")
    related = section(html, "related")
    assert "evil-login.example.org" in related and "shop.example.org" in related and ">mail.example.com<" not in related
    negatives = section(html, "negatives")
    assert set(re.findall(r'<span class="rcode">(\w+)</span>', negatives)) == {"NXDOMAIN", "NODATA"}
    assert "dga-xkq1.example.com" in negatives
    seen_by = section(html, "sensors")
    assert "edge" in seen_by and "sandbox" in seen_by and "indirect" in seen_by
    assert dataset.SAMPLE in section(html, "samples")
    data = chart_data(html)
    rows = data["timeline"]
    assert isinstance(rows, list) and {r["label"] for r in rows} >= {"A 192.0.2.10", "MX 10 mail.example.com"}
    activity = data["activity"]
    assert isinstance(activity, dict) and max(activity["active"]) >= 6


def test_idn_shows_the_u_label_with_the_a_label(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/domain/xn--bcher-kva.example").content.decode()
    assert "bücher.example" in html and "xn--bcher-kva.example" in html
    search = reader_client.get("/search", {"q": "*.example"}).content.decode()
    assert 'title="xn--bcher-kva.example">bücher.example</bdi>' in search


def test_a_wildcard_is_not_a_domain_page(loaded: Store, reader_client: Client) -> None:
    assert reader_client.get("/domain/*.example.com").status_code == 400


def test_ip_page_names_and_neighbours(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/ip/192.0.2.11").content.decode()
    assert "192.0.2.0/24" in html
    records = section(html, "records")
    assert {"example.com", "login.example.com", "evil-login.example.org"} <= set(re.findall(r'title="([^"]+)"', records))
    neighbours = section(html, "neighbours")
    assert "192.0.2.99" in neighbours and "192.0.2.25" in neighbours and "198.51.100.20" not in neighbours
    v6 = reader_client.get("/ip/2001:db8:10::10").content.decode()
    assert "2001:db8:10::/48" in v6 and "v6-neighbour.example.net" in section(v6, "neighbours")
    assert "tile-context" not in html  # no enrichment source: no ASN/geo panel, nothing invented
    assert reader_client.get("/ip/not-an-ip").status_code == 400


class _PrefixTable:
    """An enrichment source as a worker would provide it (third-party data, not ours to mock)."""

    def ip_context(self, ip: str) -> IpContext | None:
        return IpContext(asn=64500, as_name="EXAMPLE-AS", country="ZZ") if ip.startswith("192.0.2.") else None


def test_ip_context_shows_only_what_a_source_knows() -> None:
    found = enrichment.lookup(_PrefixTable(), "192.0.2.1")
    assert found is not None and found.fields() == [("AS", "AS64500"), ("AS name", "EXAMPLE-AS"), ("Country", "ZZ")]
    assert enrichment.lookup(_PrefixTable(), "198.51.100.1") is None
    assert enrichment.lookup(object(), "192.0.2.1") is None


def test_record_page_breaks_down_by_sensor(loaded: Store, reader_client: Client) -> None:
    reply = reader_client.get("/record", {"rrname": "example.com", "rrtype": "A", "rdata": "198.51.100.20"})
    html = reply.content.decode()
    provenance = section(html, "provenance")
    assert "edge" in provenance and "sandbox" in provenance and "indirect" in provenance
    assert dataset.SAMPLE in section(html, "samples")
    missing = reader_client.get("/record", {"rrname": "example.com", "rrtype": "A", "rdata": "192.0.2.200"})
    assert missing.status_code == 404


def test_overview_from_counters_and_indexes(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/").content.decode()
    assert 'id="tile-records" title="22"' in html
    assert "fresh-domain.example" in section(html, "new-names")
    assert "example.com" not in re.findall(r'title="([^"]+)"', section(html, "new-names"))
    top = re.findall(r'title="([^"]+)"', section(html, "top-names"))
    assert top[:2] == ["example.com", "www.example.com"]
    health = section(html, "sensor-health")
    assert "edge" in health and "sandbox" in health
    data = chart_data(html)
    ingest = data["ingest"]
    assert isinstance(ingest, dict) and {s["name"] for s in ingest["series"]} == {"edge", "sandbox"}
    assert dict(data["types"])["A"] == 12  # type: ignore[arg-type]


def test_overview_figures_say_which_time_they_measure(loaded: Store, reader_client: Client) -> None:
    """Ingest counts go by arrival, new names by the time DNS was seen: a backfill must not read as today."""
    html = reader_client.get("/").content.decode()
    assert "Observations ingested, last 24 h" in html and "New records ingested, last 24 h" in html
    assert "per hour of arrival (ingest time)" in html
    assert "first seen in DNS in the period (observed time, not arrival)" in section(html, "new-names")


class _Markup(HTMLParser):
    """Every element and attribute name a browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def markup(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Markup()
    parser.feed(html)
    return parser.tags


def test_hostile_names_and_rdata_are_inert(loaded: Store, reader_client: Client) -> None:
    pages = {
        "search": reader_client.get("/search", {"q": "*.xss.example"}).content.decode(),
        "txt": reader_client.get("/domain/txt.xss.example").content.decode(),
        "cname": reader_client.get("/domain/quote.xss.example").content.decode(),
        "ip": reader_client.get("/ip/203.0.113.66").content.decode(),
        "overview": reader_client.get("/", {"new": "week"}).content.decode(),
    }
    for name, html in pages.items():
        tags = markup(html)
        foreign = [t for t, a in tags if t in ("img", "svg", "iframe", "object") and not (a.get("src") or "").startswith("/static/")]
        assert not foreign, name
        handlers = [a for _, attrs in tags for a in attrs if a.startswith("on")]
        assert not handlers, (name, handlers)
        scripts = [attrs for t, attrs in tags if t == "script"]
        assert all(a.get("src") or a.get("type") == "application/json" for a in scripts), (name, scripts)
    assert "&lt;img src=x onerror=" in pages["search"]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in pages["ip"]
    assert "\\u003Cscript\\u003E" in pages["ip"] or "\\u003cscript" in pages["ip"].lower()


def test_bidi_and_invisible_characters_are_spelled_out() -> None:
    assert display.visible("abc\u202edef\u200b") == "abc\\u202edef\\u200b"
    html = display.rdata_html("TXT", '"a\u202eb"')
    assert "\u202e" not in html and "<bdi" in html


def test_one_worker_claims_the_background_refresh(store: Store) -> None:
    import datetime as dt

    from django.utils import timezone

    from yapdns.server.dashboard import summaries
    from yapdns.server.dashboard.models import SummarySnapshot

    SummarySnapshot.objects.create(name=summaries.TOP_NAMES)
    now = timezone.now()
    assert summaries.claim_refresh(now) is True
    assert summaries.claim_refresh(now + dt.timedelta(minutes=1)) is False  # another worker: already claimed
    assert summaries.claim_refresh(now + summaries.CLAIM_TIMEOUT + dt.timedelta(seconds=1)) is True  # claimant died


def test_top_names_are_kept_and_refreshed(loaded: Store) -> None:
    from yapdns.server.dashboard import summaries

    first = summaries.top_names(loaded, records=22)
    assert first.names[0].rrname == "example.com" and first.computed_at is not None
    again = summaries.top_names(loaded, records=22)
    assert again.computed_at == first.computed_at  # fresh: not recomputed


def test_zone_file_times_are_labelled_as_such(store: Store, reader_client: Client) -> None:
    zone = {"zone_time_first": NOW - 900 * DAY, "zone_time_last": NOW - 800 * DAY}
    ingest(store, "dnsdb-import", [
        Observation(rrname="zones.example", rrtype="A", rdata=("198.18.0.1",), time_first=zone["zone_time_first"],
                    time_last=zone["zone_time_last"], zone_only=True, evidence=Evidence.IMPORTED, **zone),
        Observation(rrname="zones.example", rrtype="A", rdata=("198.18.0.2",), time_first=NOW - 2 * DAY,
                    time_last=NOW - DAY, **zone),
    ])
    zone_only = reader_client.get("/record", {"rrname": "zones.example", "rrtype": "A", "rdata": "198.18.0.1"})
    html = zone_only.content.decode()
    assert "seen only in zone files" in section_of(html, "traffic-never")
    assert "<dt>First seen</dt>" not in section(html, "record")
    assert display.utc(zone["zone_time_first"]).strftime("%Y-%m-%d") in section_of(html, "zone-window")  # type: ignore[union-attr]
    assert "not in traffic" in section(html, "provenance")
    mixed = reader_client.get("/record", {"rrname": "zones.example", "rrtype": "A", "rdata": "198.18.0.2"})
    html = mixed.content.decode()
    assert "<dt>First seen</dt>" in section(html, "record") and "zone-window" in html and "traffic-never" not in html
    page = reader_client.get("/domain/zones.example").content.decode()
    assert "In zone files" in section_of(page, "zone-tile")
    first_seen = re.search(r'First seen</span><span class="tile-value small"><time datetime="([^"]+)"', page)
    assert first_seen is not None and first_seen.group(1) == display.utc(NOW - 2 * DAY).isoformat().replace(  # type: ignore[union-attr]
        "+00:00", "Z")  # the traffic window: the zone-only record's zone times do not count as "seen"
    assert section(page, "records").count('class="badge zone"') == 1
    labels = {r["label"] for r in chart_data(page)["timeline"]}  # type: ignore[union-attr]
    assert labels == {"A 198.18.0.1 (zone files)", "A 198.18.0.2"}
    ip_page = reader_client.get("/ip/198.18.0.1").content.decode()
    assert "In zone files" in section_of(ip_page, "zone-tile")
    assert re.search(r'First seen</span><span class="tile-value small"><span class="muted">never</span>', ip_page)


def section_of(html: str, anchor: str) -> str:
    """The element with ``id=anchor``, up to the end of its line of markup."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("\n", start)]
