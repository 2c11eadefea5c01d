"""The dashboard's bulk search: defanged indicators, known and unknown ones, exports (issue 20)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from tests.server.dashboard.test_pages import section
from yapdns.core.errors import InvalidQuery
from yapdns.server.dashboard.indicators import MAX_INDICATORS, parse_indicators, refang
from yapdns.storage.base import Store

PASTED = """hxxp://www.example[.]com/login?x=1
192.0.2[.]11, evil(.)com; unknown-thing[dot]example
hxxps://user@mail.example[.]com:8443/a
not a valid name!!
192.0.2.0/24 www.example.com"""


@pytest.mark.parametrize(("pasted", "term"), [
    ("hxxp://evil[.]com/path?x=1", "evil.com"), ("1.2.3[.]4", "1.2.3.4"), ("EVIL[dot]COM", "evil.com"),
    ("hxxps://user@sub.evil[.]com:8443/a", "sub.evil.com"), ("hxxp://[2001:db8::1]:80/", "2001:db8::1"),
    ("192.0.2.0/24", "192.0.2.0/24"), ("*.example.com", "*.example.com"), ("foo@bar[.]com", "bar.com"),
    ("<evil.com>", "evil.com"), ("evil.com.", "evil.com"), ("2001:db8[:]:1", "2001:db8::1"),
])
def test_refang(pasted: str, term: str) -> None:
    assert refang(pasted) == term


def test_indicators_are_distinct_and_bounded() -> None:
    found = parse_indicators("a.example, a[.]example\nb.example")
    assert [(i.term, i.pasted) for i in found] == [("a.example", "a.example"), ("b.example", "b.example")]
    with pytest.raises(InvalidQuery):
        parse_indicators("\n".join(f"h{i}.example" for i in range(MAX_INDICATORS + 1)))


def test_bulk_search_lists_known_and_unknown(loaded: Store, reader_client: Client) -> None:
    assert reader_client.get("/bulk").status_code == 200
    html = reader_client.post("/bulk", {"indicators": PASTED}).content.decode()
    results = section(html, "bulk-results")
    for term in ("www.example.com", "192.0.2.11", "mail.example.com", "192.0.2.0/24"):
        assert f'<tr class="known" data-term="{term}">' in results, term
    unknown = section(html, "bulk-unknown")
    assert "evil.com" in unknown and "unknown-thing.example" in unknown and "valid" in unknown
    assert results.count('data-term="www.example.com"') == 1  # pasted twice, looked up once


def test_bulk_exports(loaded: Store, reader_client: Client) -> None:
    reply = reader_client.post("/bulk", {"indicators": PASTED, "format": "csv"})
    assert reply["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(reply.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][:3] == ["query", "rrname", "rrtype"]
    assert ["evil.com"] in rows and any(r[0] == "192.0.2.11" and r[1] == "evil-login.example.org" for r in rows)
    lines = [json.loads(x) for x in b"".join(reader_client.post(  # type: ignore[attr-defined]
        "/bulk", {"indicators": PASTED, "format": "json"}).streaming_content).splitlines()]
    assert {"query": "evil.com", "pasted": "evil(.)com", "done": True, "known": False, "limited": False} in lines
    cof_lines = [json.loads(x) for x in b"".join(reader_client.post(  # type: ignore[attr-defined]
        "/bulk", {"indicators": "www.example.com", "format": "cof"}).streaming_content).splitlines()]
    assert cof_lines and set(cof_lines[0]) >= {"rrname", "rrtype", "rdata", "count", "time_first"}


def test_bulk_refuses_hostile_input(loaded: Store, reader_client: Client) -> None:
    assert reader_client.post("/bulk", {"indicators": "a.example", "format": "xml"}).status_code == 400
    assert reader_client.post("/bulk", {"indicators": "  \n "}).status_code == 400
    assert reader_client.post("/bulk", {"indicators": "x" * 300_000}).status_code == 400
    assert reader_client.put("/bulk").status_code == 405
    html = reader_client.post("/bulk", {"indicators": "<script>alert(1)</script>.example"}).content.decode()
    assert "<script>alert(1)" not in html


def test_bulk_needs_a_login_and_csrf(loaded: Store) -> None:
    assert Client().post("/bulk", {"indicators": "a.example"}).status_code in (302, 401, 403)
    strict = Client(enforce_csrf_checks=True)
    from tests.server.conftest import make_user

    strict.force_login(make_user("csrf-check", "read-only"))
    assert strict.post("/bulk", {"indicators": "a.example"}).status_code == 403
