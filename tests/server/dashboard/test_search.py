"""The search page: every kind the box understands, filters, paging, sorting and exports."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from tests.server.dashboard import dataset
from tests.server.dashboard.conftest import NOW, ingest
from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Observation
from yapdns.server.dashboard.search import classify
from yapdns.storage.base import Store


@pytest.mark.parametrize(
    ("text", "toggle", "expected"),
    [
        ("example.com", False, ("name", "rrname", "example.com")),
        ("*.example.com", False, ("suffix", "rrname", "*.example.com")),
        ("www.example.*", False, ("prefix", "rrname", "www.example.*")),
        ("192.0.2.11", False, ("ip", "ip", "192.0.2.11")),
        ("2001:db8:10::10", False, ("ip", "ip", "2001:db8:10::10")),
        ("192.0.2.0/24", False, ("cidr", "ip", "192.0.2.0/24")),
        ("2001:db8::/32", False, ("cidr", "ip", "2001:db8::/32")),
        ("rdata:mail.example.com", False, ("rdata", "rdata_name", "mail.example.com")),
        ("example.com", True, ("rdata", "rdata_name", "example.com")),
        ("SAMPLE:ABCDEF", False, ("sample", "sample", "abcdef")),
    ],
)
def test_the_box_understands(text: str, toggle: bool, expected: tuple[str, str, str]) -> None:
    assert classify(text, rdata_mode=toggle) == expected


def test_an_empty_rdata_search_is_refused() -> None:
    with pytest.raises(InvalidQuery):
        classify("rdata:   ")


def names_in(html: str) -> set[str]:
    return set(re.findall(r'<bdi class="dn" title="([^"]+)"', html))


@pytest.mark.parametrize(
    ("q", "extra", "present", "absent"),
    [
        ("example.com", {}, {"example.com", "ns1.example.net", "mail.example.com"}, {"www.example.com"}),
        ("*.example.com", {}, {"www.example.com", "login.example.com", "cdn.example.com"}, {"evil-login.example.org"}),
        ("mail.example.*", {}, {"mail.example.com"}, {"example.com"}),
        ("192.0.2.11", {}, {"example.com", "login.example.com", "evil-login.example.org"}, {"mail.example.com"}),
        ("192.0.2.0/24", {}, {"mail.example.com", "neighbour.example.net"}, {"shop.example.org"}),
        ("2001:db8:10::/48", {}, {"example.com", "v6-neighbour.example.net"}, {"mail.example.com"}),
        ("rdata:example.com", {}, {"www.example.com"}, {"mail.example.com"}),
        ("example.com", {"in": "rdata"}, {"www.example.com"}, {"cdn.example.com"}),
        (f"sample:{dataset.SAMPLE}", {}, {"beacon.example.net", "example.com"}, {"mail.example.com"}),
        ("*.example.com", {"rrtype": "CNAME"}, {"www.example.com", "cdn.example.com"}, {"login.example.com"}),
        ("192.0.2.11", {"evidence": "indirect"}, set(), {"example.com"}),
        ("198.51.100.20", {"sensor": "sandbox"}, {"example.com"}, {"shop.example.org"}),
    ],
)
def test_every_search_kind_finds_its_records(
    loaded: Store, reader_client: Client, q: str, extra: dict[str, str], present: set[str], absent: set[str]
) -> None:
    reply = reader_client.get("/search", {"q": q, **extra})
    assert reply.status_code == 200
    shown = names_in(reply.content.decode())
    assert present <= shown, (q, shown)
    assert not absent & shown, (q, shown)


def test_date_fences_filter_on_first_and_last_seen(loaded: Store, reader_client: Client) -> None:
    everything = reader_client.get("/search", {"q": "192.0.2.0/24", "first_after": "2000-01-01"}).content.decode()
    assert ">192.0.2.10<" in everything
    day = dt.datetime.fromtimestamp(NOW - 60 * 86400, dt.UTC).date().isoformat()
    fenced = reader_client.get("/search", {"q": "192.0.2.0/24", "last_after": day}).content.decode()
    assert "192.0.2.25" in fenced and ">192.0.2.10<" not in fenced  # 192.0.2.10 was last seen 90 days ago


def test_a_bad_query_says_what_to_fix(loaded: Store, reader_client: Client) -> None:
    reply = reader_client.get("/search", {"q": "exa*mple.com"})
    assert reply.status_code == 400
    assert "wildcard" in reply.content.decode()
    assert reader_client.get("/search", {"q": "example.com", "first_after": "yesterday"}).status_code == 400


def test_paging_over_more_rows_than_a_page(store: Store, reader_client: Client) -> None:
    ingest(store, "bulk", [
        Observation(rrname=f"host{i:03d}.paged.example", rrtype="A", rdata=(f"10.0.{i // 200}.{i % 200}",),
                    time_first=NOW - 100, time_last=NOW)
        for i in range(60)
    ])
    page1 = reader_client.get("/search", {"q": "*.paged.example", "limit": "25"}).content.decode()
    link = re.search(r'id="next-page" rel="next" href="([^"]+)"', page1)
    assert link is not None
    page2 = reader_client.get("/search" + link.group(1).replace("&amp;", "&")).content.decode()
    first, second = names_in(page1), names_in(page2)
    assert len(first) == 25 and len(second) == 25 and not first & second
    assert "page 2" in page2


def test_sorting_reorders_the_page(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/search", {"q": "*.example.com", "sort": "-count"}).content.decode()
    order = re.findall(r'<td class="num">(\d+)</td>', html)
    assert [int(n) for n in order] == sorted((int(n) for n in order), reverse=True)
    assert 'class="sort desc"' in html


def test_exports_run_the_same_query_through_the_api_with_the_session(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/search", {"q": "*.example.com", "rrtype": "CNAME"}).content.decode()
    links = dict(re.findall(r'href="([^"]+)" data-export="(\w+)"', html))
    by_format = {fmt: url.replace("&amp;", "&") for url, fmt in links.items()}
    assert set(by_format) == {"csv", "json", "cof"}
    csv = reader_client.get(by_format["csv"])
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    body = b"".join(csv.streaming_content).decode()  # type: ignore[attr-defined]
    assert "www.example.com" in body and "login.example.com" not in body
    data = reader_client.get(by_format["json"]).json()
    assert {r["rrname"] for r in data["records"]} == {"www.example.com", "cdn.example.com"}
    cof = b"".join(reader_client.get(by_format["cof"]).streaming_content).decode()  # type: ignore[attr-defined]
    assert cof.count("\n") == 2


def test_a_sample_search_lists_the_questions_it_left_unanswered(loaded: Store, reader_client: Client) -> None:
    page = reader_client.get("/search", {"q": f"sample:{dataset.SAMPLE}"}).content.decode()
    unanswered = page.split('id="sample-questions"', 1)[1]
    assert "qzxv-dga.example.net" in unanswered and "NXDOMAIN" in unanswered
    assert "dga-xkq1.example.com" not in unanswered  # a negative the sample never asked for
