"""The "copy as dnsdbq" command of a search, and the copy buttons (issue 20)."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client

from tests.server.dashboard.test_pages import section
from yapdns.server.dashboard import search
from yapdns.server.dashboard.dnsdbq import dnsdbq_command
from yapdns.storage.base import Store


def command(query: str) -> str | None:
    return dnsdbq_command(search.parse(QueryDict(query)))


@pytest.mark.parametrize(("query", "expected"), [
    ("q=www.example.com", "dnsdbq -r www.example.com -l 100 -j"),
    ("q=*.example.com&rrtype=A&limit=25", "dnsdbq -t A -r '*.example.com' -l 25 -j"),
    ("q=192.0.2.0/24", "dnsdbq -i 192.0.2.0/24 -l 100 -j"),
    ("q=rdata:*.example.net", "dnsdbq -n .example.net -l 100 -j"),
    ("q=example.com&last_after=2026-01-01&first_before=2026-06-30",
     "dnsdbq -r example.com -l 100 -j -A 1767225600 -B 1782863999"),
    ("q=example.com&first_after=2026-01-01", "dnsdbq -r example.com -l 100 -j -c -A 1767225600"),
    ("q=example.com&since=7d", "dnsdbq -r example.com -l 100 -j -A -604800"),
    ("q=example.com&sensor=edge&first_after=2026-01-01&last_after=2026-01-01",
     "dnsdbq -r example.com -l 100 -j -A 1767225600"
     "  # not expressible in dnsdbq: time_first_after=1767225600, sensor=edge"),
    ("q=x.example;rm%20-rf", "dnsdbq -r 'x.example;rm -rf' -l 100 -j"),
])
def test_dnsdbq_command(query: str, expected: str) -> None:
    assert command(query) == expected


def test_sample_and_tag_searches_have_no_command() -> None:
    assert command("q=sample:" + "a" * 64) is None
    assert command("q=tag:phishing") is None


def test_results_carry_copy_buttons_and_the_command(loaded: Store, reader_client: Client) -> None:
    html = reader_client.get("/search", {"q": "*.example.com"}).content.decode()
    assert 'id="copy-dnsdbq" data-copy-text="dnsdbq -r &#x27;*.example.com&#x27; -l 100 -j"' in html
    results = section(html, "results")
    assert 'data-copy-text="www.example.com"' in results and 'data-copy-text="example.com"' in results
    domain = reader_client.get("/domain/example.com").content.decode()
    assert 'data-copy-text="example.com"' in domain.split('id="entity-name"')[1][:300]
