"""The own query API: keys, filters, paging, formats, bulk, detail, auth."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.server.conftest import auth
from yapdns.core.model import Evidence, Observation, SampleRef
from yapdns.core.normalize import normalize_observation
from yapdns.storage.base import BatchRef, Store

SHA = "ab" * 32


def obs(rrname: str, rrtype: str, *rdata: str, first: int = 1_600_000_000, last: int = 1_600_000_100,
        count: int = 1, sensor: str = "s1", **kw: object) -> Observation:
    return normalize_observation(Observation(rrname=rrname, rrtype=rrtype, rdata=rdata, time_first=first,
                                             time_last=last, count=count, sensor_id=sensor, **kw))  # type: ignore[arg-type]


@pytest.fixture
def loaded(store: Store) -> Store:
    store.write([
        obs("www.example.com", "A", "192.0.2.1", "192.0.2.2", count=5),
        obs("mail.example.com", "MX", "10 mx.example.net"),
        obs("alias.example.org", "CNAME", "www.example.com", first=1_500_000_000, last=1_500_000_500),
        obs("v6.example.com", "AAAA", "2001:db8::1"),
        obs("=cmd.example.com", "TXT", '"=HYPERLINK(\\"x\\")"'),
        obs("nx.example.com", "A", rcode="NXDOMAIN"),
        obs("asked.example.com", "A"),
        obs("dropper.example.net", "A", "198.51.100.7", sensor="sandbox", evidence=Evidence.INDIRECT,
            sample=SampleRef(SHA, "42")),
        obs("xq7.dga.example", "A", sensor="sandbox", rcode="NXDOMAIN", evidence=Evidence.INDIRECT,
            sample=SampleRef(SHA, "42")),
        *[obs(f"h{i:03d}.bulk.example", "A", f"203.0.113.{i}") for i in range(1, 31)],
    ], BatchRef("s1", "load"))
    return store


def get(client: Client, token: str, url: str, **params: object):
    return client.get(url, params, **auth(token))


def test_auto_query_understands_names_wildcards_ips_and_cidrs(client: Client, loaded: Store, query_token: str) -> None:
    def names(q: str, **extra: object) -> list[tuple[str, str]]:
        body = get(client, query_token, "/api/v1/records", q=q, **extra).json()
        return [(r["rrname"], r["rdata"]) for r in body["records"]]

    assert names("WWW.example.COM.") == [("www.example.com", "192.0.2.1"), ("www.example.com", "192.0.2.2")]
    assert {n for n, _ in names("*.example.com")} == {"www.example.com", "mail.example.com", "v6.example.com",
                                                       "=cmd.example.com"}
    assert names("alias.example.*") == [("alias.example.org", "www.example.com")]
    assert names("192.0.2.0/24") == [("www.example.com", "192.0.2.1"), ("www.example.com", "192.0.2.2")]
    assert names("2001:db8::/32") == [("v6.example.com", "2001:db8::1")]
    assert names("192.0.2.2-192.0.2.9") == [("www.example.com", "192.0.2.2")]


def test_rdata_name_sample_and_type_filters(client: Client, loaded: Store, query_token: str) -> None:
    def rows(**params: object) -> list[str]:
        return [r["rrname"] for r in get(client, query_token, "/api/v1/records", **params).json()["records"]]

    assert rows(rdata_name="mx.example.net") == ["mail.example.com"]
    assert rows(rdata_name="www.example.com") == ["alias.example.org"]
    assert rows(sample=SHA.upper()) == ["dropper.example.net"]
    assert rows(q="*.example.com", type="MX") == ["mail.example.com"]
    assert rows(q="*.example.net", sensor="sandbox", evidence="indirect") == ["dropper.example.net"]
    assert rows(q="*.example.net", evidence="direct") == []


def test_fences_absolute_and_relative(client: Client, loaded: Store, query_token: str) -> None:
    def rows(**params: object) -> list[str]:
        return [r["rrname"] for r in get(client, query_token, "/api/v1/records", q="*.example.org", **params).json()["records"]]

    assert rows(time_last_before=1_500_000_500) == ["alias.example.org"]
    assert rows(time_last_before=1_500_000_499) == []
    assert rows(time_first_after=1_500_000_001) == []
    assert rows(time_last_after=-86400) == []  # relative: nothing seen in the last day


def test_json_paging_is_stable_and_says_limited(client: Client, loaded: Store, query_token: str) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": "*.bulk.example", "limit": 7, **({"cursor": cursor} if cursor else {})}
        body = get(client, query_token, "/api/v1/records", **params).json()
        seen += [r["rrname"] for r in body["records"]]
        pages += 1
        if not body["limited"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert pages == 5
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 30


def test_cof_and_csv_exports(client: Client, loaded: Store, query_token: str) -> None:
    cof = get(client, query_token, "/api/v1/records", q="www.example.com", format="cof")
    assert cof["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(cof.streaming_content).splitlines()]
    assert {ln["rdata"] for ln in lines} == {"192.0.2.1", "192.0.2.2"}
    assert all(isinstance(ln["time_first"], int) and ln["count"] == 5 and ln["origin"] for ln in lines)
    text = b"".join(get(client, query_token, "/api/v1/records", q="=cmd.example.com", format="csv").streaming_content)
    rows = list(csv.reader(io.StringIO(text.decode())))
    assert rows[0][:3] == ["rrname", "rrtype", "rdata"]
    assert rows[1][0] == "'=cmd.example.com"  # a spreadsheet formula is defused
    assert rows[1][2] == '"=HYPERLINK(\\"x\\")"'  # TXT keeps its quotes, so it is no formula


def test_rrsets_negatives_qnames_and_detail(client: Client, loaded: Store, query_token: str) -> None:
    rrsets = get(client, query_token, "/api/v1/rrsets", rrname="www.example.com").json()["rrsets"]
    assert [r["rdata"] for r in rrsets] == [["192.0.2.1", "192.0.2.2"]]
    negatives = get(client, query_token, "/api/v1/negatives", rrname="*.example.com").json()["negatives"]
    assert [(n["rrname"], n["rcode"]) for n in negatives] == [("nx.example.com", "NXDOMAIN")]
    qnames = get(client, query_token, "/api/v1/qnames", rrname="*.example.com").json()["qnames"]
    assert [q["rrname"] for q in qnames] == ["asked.example.com"]
    detail = get(client, query_token, "/api/v1/record", rrname="dropper.example.net", rrtype="a",
                 rdata="198.51.100.7").json()
    assert detail["record"]["count"] == 1
    assert [(p["sensor_id"], p["evidence"]) for p in detail["provenance"]] == [("sandbox", "indirect")]
    assert [(s["sha256"], s["task_id"]) for s in detail["samples"]] == [(SHA, "42")]
    by_sample = get(client, query_token, "/api/v1/negatives", sample=SHA).json()["negatives"]
    assert [(n["rrname"], n["rcode"]) for n in by_sample] == [("xq7.dga.example", "NXDOMAIN")]
    assert get(client, query_token, "/api/v1/negatives").status_code == 400
    assert get(client, query_token, "/api/v1/record", rrname="nope.example", rrtype="A",
               rdata="192.0.2.1").status_code == 404


def test_bulk_streams_every_query_with_a_trailer(client: Client, loaded: Store, query_token: str) -> None:
    reply = client.post("/api/v1/bulk", {"queries": ["www.example.com", "198.51.100.0/24", "bad..name"], "limit": 1},
                        content_type="application/json", **auth(query_token))
    lines = [json.loads(x) for x in b"".join(reply.streaming_content).splitlines()]
    assert [(ln["query"], ln.get("done"), ln.get("limited")) for ln in lines] == [
        ("www.example.com", None, None), ("www.example.com", True, True),
        ("198.51.100.0/24", None, None), ("198.51.100.0/24", True, False),
        ("bad..name", True, None),
    ]
    assert "error" in lines[-1]
    text = client.post("/api/v1/bulk", "www.example.com\n\nmail.example.com\n", content_type="text/plain",
                       **auth(query_token))
    assert len(b"".join(text.streaming_content).splitlines()) == 5


@pytest.mark.parametrize(("params", "message"), [
    ({"q": "a..b"}, "empty"),
    ({"q": "www.example.com", "type": "NOPE"}, "unknown rrtype"),
    ({"ip": "300.1.2.3"}, "not an IP"),
    ({"q": "x", "rrname": "y"}, "exactly one"),
    ({"q": "x", "limit": "ten"}, "integer"),
    ({"q": "x", "cursor": "%%%"}, "cursor"),
    ({"q": "x", "format": "xml"}, "format"),
])
def test_bad_parameters_are_400_with_a_reason(client: Client, loaded: Store, query_token: str,
                                              params: dict[str, str], message: str) -> None:
    reply = get(client, query_token, "/api/v1/records", **params)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


def test_auth_is_required_and_sensor_tokens_cannot_query(client: Client, loaded: Store, sensor_token: str) -> None:
    assert client.get("/api/v1/records", {"q": "x"}).status_code == 401
    assert get(client, sensor_token, "/api/v1/records", q="x").status_code == 403
    assert get(client, "yq_nope", "/api/v1/records", q="x").status_code == 401
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_session_users_can_query_but_posts_need_csrf(loaded: Store, analyst: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(analyst)
    assert browser.get("/api/v1/records", {"q": "www.example.com"}).status_code == 200
    assert browser.post("/api/v1/bulk", {"queries": ["x"]}, content_type="application/json").status_code == 403


def test_stats_and_openapi_describe_everything(client: Client, loaded: Store, query_token: str) -> None:
    from django.urls import get_resolver

    stats = get(client, query_token, "/api/v1/stats").json()
    assert stats["store"]["records"] == 37 and stats["store"]["negatives"] == 2
    schema = get(client, query_token, "/api/v1/openapi.json").json()
    routes = set()
    for top in get_resolver().url_patterns:
        for sub in getattr(top, "url_patterns", []):
            if str(top.pattern) == "api/v1/":
                routes.add("/api/v1/" + str(sub.pattern).replace("<str:", "{").replace("<int:", "{").replace(">", "}"))
    assert routes and routes <= set(schema["paths"])


def test_zone_file_times_stay_zone_times_in_every_format(client: Client, store: Store, query_token: str) -> None:
    zone = {"zone_time_first": 1_400_000_000, "zone_time_last": 1_700_000_000}
    store.write([
        obs("z.zones.example", "A", "198.18.0.1", first=1_400_000_000, last=1_700_000_000, zone_only=True,
            sensor="import", evidence=Evidence.IMPORTED, **zone),
        obs("m.zones.example", "A", "198.18.0.2", **zone),
    ])
    records = get(client, query_token, "/api/v1/records", q="*.zones.example").json()["records"]
    times = ("time_first", "time_last", "zone_time_first", "zone_time_last")
    assert [(r["rrname"], *(r.get(k) for k in times)) for r in records] == [
        ("m.zones.example", 1_600_000_000, 1_600_000_100, 1_400_000_000, 1_700_000_000),
        ("z.zones.example", None, None, 1_400_000_000, 1_700_000_000),  # never seen in traffic: no time_first
    ]
    assert all("zone_only" not in r for r in records)
    cof = get(client, query_token, "/api/v1/records", q="198.18.0.1", format="cof")
    cof_rows = [json.loads(line) for line in b"".join(cof.streaming_content).splitlines()]
    assert [(r.get("time_first"), r["zone_time_first"], r["zone_time_last"]) for r in cof_rows] == [
        (None, 1_400_000_000, 1_700_000_000)]
    text = b"".join(get(client, query_token, "/api/v1/records", q="*.zones.example", format="csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert [(r["time_first"], r["zone_time_first"]) for r in rows] == [("1600000000", "1400000000"),
                                                                        ("", "1400000000")]
    detail = get(client, query_token, "/api/v1/record", rrname="z.zones.example", rrtype="A",
                 rdata="198.18.0.1").json()
    assert "time_first" not in detail["record"] and detail["record"]["zone_time_last"] == 1_700_000_000
    assert [(p["sensor_id"], p.get("time_first"), p["zone_time_first"]) for p in detail["provenance"]] == [
        ("import", None, 1_400_000_000)]
    (rrset,) = get(client, query_token, "/api/v1/rrsets", rrname="m.zones.example").json()["rrsets"]
    assert (rrset["time_first"], rrset["zone_time_first"]) == (1_600_000_000, 1_400_000_000)
