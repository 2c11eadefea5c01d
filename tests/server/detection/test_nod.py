"""Newly observed domains: the paged, filtered list and the NDJSON stream, resumable without gaps or repeats;
registered domains from the bundled Public Suffix List; backfills correct first-seen without a second announcement."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.server.conftest import auth
from yapdns.core.model import Evidence, Observation
from yapdns.core.normalize import normalize_observation
from yapdns.server.detection import nod
from yapdns.storage.base import BatchRef, Store


def write(store: Store, batch: str, *items: tuple[str, int], sensor: str = "edge", evidence: Evidence = Evidence.DIRECT) -> None:
    store.write(
        [normalize_observation(Observation(rrname=n, rrtype="A", rdata=("192.0.2.1",), time_first=t, time_last=t + 5,
                                           count=1, sensor_id=sensor, evidence=evidence)) for n, t in items],
        BatchRef(sensor, batch),
    )


def page(client: Client, token: str, **params: Any) -> dict[str, Any]:
    reply = client.get("/api/v1/nod", params, **auth(token))
    assert reply.status_code == 200, reply.content
    return reply.json()


def stream(client: Client, token: str, **params: Any) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/nod/stream", params, **auth(token))
    assert reply.status_code == 200 and reply["Content-Type"] == "application/x-ndjson"
    return [json.loads(line) for line in b"".join(reply.streaming_content).splitlines()]  # type: ignore[attr-defined]


def test_names_are_new_once_in_discovery_order_with_observed_first_seen(client: Client, store: Store, query_token: str) -> None:
    write(store, "1", ("www.example.co.uk", 2000), ("mail.example.co.uk", 1000))
    write(store, "2", ("www.example.co.uk", 500), ("cdn.other.example", 3000))  # a backfill: earlier sighting
    body = page(client, query_token)
    got = [(n["name"], n["first_seen"]) for n in body["names"]]
    assert got == [("www.example.co.uk", 500), ("mail.example.co.uk", 1000), ("cdn.other.example", 3000)]
    assert body["limited"] is False
    domains = page(client, query_token, level="domain")["names"]
    assert [(n["name"], n["via"]) for n in domains] == [("example.co.uk", "www.example.co.uk"), ("other.example", "cdn.other.example")]
    assert domains[0]["registered_domain"] == "example.co.uk"


def test_filters_since_sensor_evidence_within(client: Client, store: Store, query_token: str) -> None:
    write(store, "1", ("a.evil.example", 1000), ("b.example", 5000))
    write(store, "2", ("c.evil.example", 6000), sensor="sandbox", evidence=Evidence.INDIRECT)
    names = lambda **p: [n["name"] for n in page(client, query_token, **p)["names"]]  # noqa: E731
    assert names(since=4000) == ["b.example", "c.evil.example"]
    assert names(sensor="sandbox") == ["c.evil.example"] and names(evidence="direct") == ["a.evil.example", "b.example"]
    assert names(within="*.evil.example") == ["a.evil.example", "c.evil.example"]
    for bad in ({"level": "tld"}, {"evidence": "rumour"}, {"cursor": "garbage"}, {"since": "yesterday"}, {"within": "a..b"}):
        assert client.get("/api/v1/nod", bad, **auth(query_token)).status_code == 400, bad


def test_paging_and_the_stream_resume_without_gap_or_repeat(client: Client, store: Store, query_token: str) -> None:
    write(store, "1", *((f"n{i:02d}.example", 1000 + i) for i in range(25)))
    seen, cursor = [], None
    for _ in range(10):
        body = page(client, query_token, limit=7, **({"cursor": cursor} if cursor else {}))
        seen += [n["name"] for n in body["names"]]
        cursor = body["next_cursor"]
        if not body["limited"]:
            break
    assert seen == [f"n{i:02d}.example" for i in range(25)]
    lines = stream(client, query_token)
    assert [n["name"] for n in lines] == seen
    resumed = lines[9]["cursor"]
    write(store, "2", ("n03.example", 1), ("late.example", 1))  # a known name again, and a new one
    assert [n["name"] for n in stream(client, query_token, cursor=resumed)] == [*seen[10:], "late.example"]
    assert stream(client, query_token, cursor=page(client, query_token, cursor=resumed, limit=1000)["next_cursor"]) == []


def test_the_registered_domain_comes_from_the_bundled_list() -> None:
    assert nod.registered_domain("a.b.example.co.uk") == "example.co.uk"
    assert nod.registered_domain("x.y.blogspot.com") == "y.blogspot.com"  # a private suffix of the list
    assert nod.registered_domain("co.uk") is None


def test_nod_entries_alert_on_new_names_under_their_suffix(store: Store) -> None:
    from yapdns.server.detection import jobs
    from yapdns.server.detection.models import Alert, WatchlistEntry

    write(store, "old", ("old.example.org", 1000))
    WatchlistEntry.objects.create(kind="nod", value="example.org", label="our brand")
    assert jobs.nod_watch(store) == 0  # the first round starts at the end: history is not news
    write(store, "new", ("login-example.example.org", 2000), ("unrelated.example", 2000), ("old.example.org", 3000))
    assert jobs.nod_watch(store) == 1
    alert = Alert.objects.get()
    assert (alert.rrname, alert.origin, alert.time_first) == ("login-example.example.org", "nod", 2000)
    assert jobs.nod_watch(store) == 0  # the cursor moved on


def test_restarted_cursors_skip_a_switched_store_s_history(store: Store) -> None:
    from yapdns.server.detection import jobs
    from yapdns.server.detection.models import JobCursor, WatchlistEntry

    write(store, "old", ("old.example.org", 1000))
    WatchlistEntry.objects.create(kind="nod", value="example.org", label="our brand")
    JobCursor.objects.create(name=jobs.NOD_CURSOR, value=nod.cursor_of(0))  # a cursor kept from another store
    jobs.restart_cursors(store)
    assert jobs.nod_watch(store) == 0  # without the restart, old.example.org would be news
    write(store, "new", ("new.example.org", 2000))
    assert jobs.nod_watch(store) == 1


def test_the_nod_page_filters_and_pages(client: Client, store: Store, analyst: Any) -> None:
    write(store, "1", *((f"n{i:03d}.example.net", 1_700_000_000 + i) for i in range(120)), ("<b>x</b>.example", 1))
    client.force_login(analyst)
    html = client.get("/nod").content.decode()
    assert html.count('class="c-name"><a href="/domain/') == 100 and 'id="nod-next"' in html
    next_url = html.split('id="nod-next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    rest = client.get("/nod" + next_url).content.decode()
    assert "n119.example.net" in rest and "<b>x</b>" not in rest
    assert "example.net" in client.get("/nod", {"level": "domain"}).content.decode()
    assert client.get("/nod", {"since": "not a date"}).status_code == 400
