"""Asking upstream about each new watchlist alert: the ``upstream-on-alerts`` job against the local VirusTotal
server of ``vt_pages.py``, with alerts raised by the detection app's own ``record_hits``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.enrichment.vt_pages import KEY, PagedResolutions, paged_server
from yapdns.server.detection import services
from yapdns.server.detection.matching import Hit
from yapdns.server.detection.models import WatchlistEntry
from yapdns.server.enrichment import onalert
from yapdns.server.enrichment.models import UpstreamFetch
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, RecordQuery

T0 = 1_700_000_000


@pytest.fixture
def vt(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[PagedResolutions]]:
    with paged_server() as (url, handler):
        handler.total = 3
        for key, value in {"YAPDNS_UPSTREAM_VT_KEY": KEY, "YAPDNS_UPSTREAM_VT_URL": url,
                           "YAPDNS_UPSTREAM_DAILY_QUOTA": "virustotal=5", "YAPDNS_ALERT_WEBHOOK_URL": ""}.items():
            monkeypatch.setenv(key, value)
        yield handler


def _alert(kind: str, value: str, rrname: str, rdata: str) -> None:
    entry = WatchlistEntry.objects.create(kind=kind, value=value)
    assert services.record_hits([Hit(entry.pk, rrname, "A", rdata, "edge", T0, T0, 1)])


def test_new_alerts_are_asked_once_within_the_quota(store: Store, vt: type[PagedResolutions],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _alert("name", "before.example", "before.example", "192.0.2.1")
    assert onalert.ask_upstream_on_alerts.call() == 0  # off: the cursor follows the alerts, nothing is asked
    monkeypatch.setenv("YAPDNS_UPSTREAM_ON_ALERT", "virustotal")
    assert onalert.ask_upstream_on_alerts.call() == 0  # the backlog from before is not asked
    _alert("name", "c2.evil.example", "c2.evil.example", "203.0.113.5")
    _alert("ip", "203.0.113.0/24", "web.victim.example", "203.0.113.9")
    assert onalert.ask_upstream_on_alerts.call() == 2
    assert [q["limit"] for q in vt.seen] == ["40", "40"]
    names = {r.rrname for r in store.records(RecordQuery(rrname=NameMatch.parse("c2.evil.example"))).rows}
    assert names == {"c2.evil.example"}
    asked = {(f.query, f.asked_by) for f in UpstreamFetch.objects.all()}
    assert {q for q, _ in asked} == {"c2.evil.example", "203.0.113.9"}  # the name; the address of an IP entry
    assert all(by.startswith("watchlist alert #") for _, by in asked)
    by_ip = store.records(RecordQuery(rdata_ip=IpRange.parse("203.0.113.9"))).rows
    assert {r.rrname for r in by_ip} == {"host0.resolves.example", "host1.resolves.example", "host2.resolves.example"}
    assert {p.sensor_id for r in by_ip for p in store.provenance(r.rrname, r.rrtype, r.rdata)} == {"upstream/virustotal"}
    assert onalert.ask_upstream_on_alerts.call() == 0  # nothing new
    _alert("name", "*.evil.example", "c2.evil.example", "203.0.113.6")  # another alert, same name: the cache answers
    assert onalert.ask_upstream_on_alerts.call() == 1 and len(vt.seen) == 2


def test_a_used_up_quota_skips_the_connector_for_the_run(store: Store, vt: type[PagedResolutions],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAPDNS_UPSTREAM_ON_ALERT", "virustotal, virustotal")
    monkeypatch.setenv("YAPDNS_UPSTREAM_DAILY_QUOTA", "virustotal=1")
    for i in range(3):
        _alert("name", f"n{i}.example", f"n{i}.example", "192.0.2.7")
    assert onalert.ask_upstream_on_alerts.call() == 1  # one request left: one alert asked, the others skipped
    assert len(vt.seen) == 1
    assert onalert.ask_upstream_on_alerts.call() == 0  # and not asked again later
