"""Display helpers: URLs equal to Django's reverse(), time buckets, durations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yapdns.core.model import Record
from yapdns.server.dashboard import display, timeline

NAMES = ["example.com", "a\\032b.example", "we%ird?#x.example", "<script>alert\\(1\\)</script>.xss.example",
         '\\"q.example', "b/c.example", "xn--bcher-kva.example"]


@pytest.mark.parametrize("name", NAMES)
def test_cached_urls_match_reverse(name: str) -> None:
    assert display.domain_url(name) == reverse("dashboard:domain", kwargs={"name": name})


@pytest.mark.parametrize("addr", ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"])
def test_cached_ip_urls_match_reverse(addr: str) -> None:
    assert display.ip_url(addr) == reverse("dashboard:ip", kwargs={"addr": addr})


def rec(first: int, last: int) -> Record:
    return Record(rrname="x.example", rrtype="A", rdata="192.0.2.1", time_first=first, time_last=last, count=1)


def test_activity_counts_active_and_new_per_bucket() -> None:
    day = timeline.DAY
    base = 1_700_000_000 - 1_700_000_000 % day
    data = timeline.activity([rec(base, base + 2 * day), rec(base + day, base + day + 5), rec(base + 3 * day, base + 3 * day)])
    assert data["unit"] == "day"
    assert data["buckets"] == [base + i * day for i in range(4)]
    assert data["active"] == [1, 2, 1, 1]
    assert data["new"] == [1, 1, 0, 1]


def test_activity_widens_buckets_for_long_histories() -> None:
    data = timeline.activity([rec(0, 20 * 365 * timeline.DAY)])
    assert len(data["buckets"]) <= timeline.MAX_BUCKETS  # type: ignore[arg-type]
    assert data["active"] == [1] * len(data["buckets"])  # type: ignore[arg-type]


def test_durations_and_compact_numbers() -> None:
    assert [display.duration(s) for s in (5, 600, 7200, 3 * 86400, 800 * 86400)] == ["5 s", "10 min", "2 h", "3 d", "2.2 y"]
    assert [display.compact(n) for n in (999, 1500, 2_500_000, None)] == ["999", "1.5k", "2.5M", "\u2013"]
