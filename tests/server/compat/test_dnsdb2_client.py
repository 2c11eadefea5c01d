"""Every call of the real ``dnsdb2`` client (PyPI) against a live YAPDNS server."""

from __future__ import annotations

import time

import dnsdb2
import pytest

from tests.server.compat import dataset
from tests.server.compat.conftest import CompatServer


@pytest.fixture(scope="module")
def client(live: CompatServer) -> dnsdb2.Client:
    return dnsdb2.Client(live.token, live.url, swclient="yapdnstests", version="1")


def test_ping_needs_no_valid_key(live: CompatServer) -> None:
    assert dnsdb2.Client("", live.url).ping() is True
    assert dnsdb2.Client("invalid-key", live.url).ping() is True


def test_rate_limit_shape(client: dnsdb2.Client) -> None:
    rate = client.rate_limit()["rate"]
    assert rate["limit"] == "unlimited" and rate["remaining"] == "n/a" and rate["reset"] == "n/a"
    assert isinstance(rate["results_max"], int) and isinstance(rate["offset_max"], int)


def test_bad_key_is_access_denied(live: CompatServer) -> None:
    with pytest.raises(dnsdb2.AccessDenied):
        list(dnsdb2.Client("yq_not-a-real-token", live.url).lookup_rrset("www.example.com"))
    with pytest.raises(dnsdb2.AccessDenied):
        dnsdb2.Client("invalid", live.url).rate_limit()


def test_lookup_rrset_rows_are_rrsets(client: dnsdb2.Client) -> None:
    rows = list(client.lookup_rrset("www.Example.com", rrtype="A"))
    sets = {(r["bailiwick"], tuple(r["rdata"])): r for r in rows}
    assert set(sets) == {("com.", ("192.0.2.1",)), ("example.com.", ("192.0.2.1",)),
                         ("example.com.", ("192.0.2.2", "192.0.2.3"))}
    row = sets[("example.com.", ("192.0.2.2", "192.0.2.3"))]
    assert row == {"rrname": "www.example.com.", "rrtype": "A", "bailiwick": "example.com.",
                   "rdata": ["192.0.2.2", "192.0.2.3"], "count": 50, "time_first": dataset.T1 + 100,
                   "time_last": dataset.T2}


def test_lookup_rrset_bailiwick_and_wildcards(client: dnsdb2.Client) -> None:
    assert [r["bailiwick"] for r in client.lookup_rrset("www.example.com", "A", "com")] == ["com."]
    left = {r["rrname"] for r in client.lookup_rrset("*.example.com")}
    assert {"www.example.com.", "alias.example.com.", "_sip._tcp.example.com.", "bulk00.example.com."} <= left
    assert "example.com." not in left
    right = {r["rrname"] for r in client.lookup_rrset("www.example.*", bailiwick="example.net")}
    assert right == {"www.example.net."}


def test_lookup_rrset_rdata_forms(client: dnsdb2.Client) -> None:
    by_type = {r["rrtype"]: r["rdata"] for r in client.lookup_rrset("example.com") if r["rrtype"] != "TXT"}
    assert by_type["MX"] == ["10 mail.example.com."]
    assert by_type["NS"] == ["ns1.example.com.", "ns2.example.net."]
    assert by_type["SOA"] == ["ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"]
    txt = sorted(r["rdata"][0] for r in client.lookup_rrset("example.com", "TXT"))
    assert txt == ['"first part " "second part"', '"v=spf1 include:_spf.example.net -all"']
    srv = list(client.lookup_rrset("_sip._tcp.example.com", "SRV"))
    assert srv[0]["rdata"] == ["10 60 5060 sip.example.com."]


def test_idn_owner_name(client: dnsdb2.Client) -> None:
    rows = list(client.lookup_rrset(dataset.IDN_ULABEL + "."))
    assert [r["rrname"] for r in rows] == [dataset.IDN_ALABEL + "."]


def test_humantime_and_aggr_false(client: dnsdb2.Client) -> None:
    rows = list(client.lookup_rrset("www.example.com", "AAAA", humantime=True, aggr=False))
    assert rows[0]["time_first"] == "2020-09-13T12:26:40Z" and rows[0]["time_last"] == "2023-11-14T22:13:20Z"


def test_time_fences(client: dnsdb2.Client) -> None:
    old = "old.example.org"
    loose = list(client.lookup_rrset(old, time_last_after=1_270_000_000, time_first_before=1_295_000_000))
    strict = list(client.lookup_rrset(old, time_first_after=1_270_000_000, time_last_before=1_295_000_000))
    wide = list(client.lookup_rrset(old, time_first_after=1_260_000_000, time_last_before=1_295_000_000))
    assert len(loose) == 1 and strict == [] and len(wide) == 1
    recent = list(client.lookup_rrset("*.example.com", time_first_after=-86400))
    assert recent == []  # everything in the dataset is older than a day
    old = list(client.lookup_rrset("*.example.com", "CNAME", time_first_before=-86400))
    assert all(r["time_first"] < time.time() - 86340 for r in old) and old


def test_limit_offset_and_limited(client: dnsdb2.Client) -> None:
    with pytest.raises(dnsdb2.QueryLimited):
        list(client.lookup_rdata_ip("203.0.113.10", limit=5))
    page = list(client.lookup_rdata_ip("203.0.113.10", limit=5, ignore_limited=True))
    later = list(client.lookup_rdata_ip("203.0.113.10", limit=5, offset=5, ignore_limited=True))
    assert len(page) == 5 and len(later) == 5 and not {r["rrname"] for r in page} & {r["rrname"] for r in later}
    everything = list(client.lookup_rdata_ip("203.0.113.10", limit=0))
    assert len(everything) == dataset.BULK
    assert list(client.lookup_rdata_ip("203.0.113.10", limit=dataset.BULK)) == everything  # exact: no "limited"
    with pytest.raises(dnsdb2.OffsetError):
        list(client.lookup_rdata_ip("203.0.113.10", offset=10**9))


def test_summaries(client: dnsdb2.Client) -> None:
    (summary,) = list(client.summarize_rrset("www.example.com"))
    assert summary == {"count": 182, "num_results": 4, "time_first": dataset.T0, "time_last": dataset.T2}
    (capped,) = list(client.summarize_rrset("www.example.com", max_count=10))
    assert capped["count"] >= 10 and capped["num_results"] < 4
    (by_ip,) = list(client.summarize_rdata_ip("203.0.113.10"))
    assert by_ip["num_results"] == dataset.BULK and by_ip["count"] == dataset.BULK
    (by_name,) = list(client.summarize_rdata_name("mail.example.com"))
    assert by_name["num_results"] == 2
    (raw,) = list(client.summarize_rdata_raw("c0000201", rrtype="A"))  # 192.0.2.1
    assert raw["num_results"] == 2 and raw["count"] == 102 + 15
    assert list(client.summarize_rrset("nothing-here.example.org")) == []


def test_lookup_rdata_name(client: dnsdb2.Client) -> None:
    rows = list(client.lookup_rdata_name("mail.example.com"))
    assert {(r["rrname"], r["rrtype"]) for r in rows} == {("example.com.", "MX"), ("1.2.0.192.in-addr.arpa.", "PTR")}
    assert all(isinstance(r["rdata"], list) and "bailiwick" not in r for r in rows)
    assert {r["rrtype"] for r in client.lookup_rdata_name("*.example.com", rrtype="CNAME")} == {"CNAME"}


def test_lookup_rdata_ip_forms(client: dnsdb2.Client) -> None:
    one = list(client.lookup_rdata_ip("192.0.2.1"))
    assert {r["rrname"] for r in one} == {"www.example.com.", "www.example.net."}
    assert all(r["rdata"] == ["192.0.2.1"] for r in one)
    cidr = {r["rdata"][0] for r in client.lookup_rdata_ip("192.0.2.0/24")}
    assert cidr == {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.25", "192.0.2.80"}
    v6 = {r["rrname"] for r in client.lookup_rdata_ip("2001:db8::/32", rrtype="A")}  # rrtype param ignored
    assert v6 == {"www.example.com.", "v6.example.org."}
    span = {r["rdata"][0] for r in client.lookup_rdata_ip("192.0.2.2-192.0.2.25")}
    assert span == {"192.0.2.2", "192.0.2.3", "192.0.2.25"}


def test_lookup_rdata_raw(client: dnsdb2.Client) -> None:
    mx = list(client.lookup_rdata_raw("000A046D61696C076578616D706C6503636F6D00", rrtype="MX"))
    assert [(r["rrname"], r["rdata"]) for r in mx] == [("example.com.", ["10 mail.example.com."])]
    any_type = list(client.lookup_rdata_raw("046d61696c076578616d706c6503636f6d00"))
    assert {r["rrtype"] for r in any_type} == {"PTR"}


def test_flex_regex_and_glob(client: dnsdb2.Client) -> None:
    names = list(client.flex_rrnames_regex(r"^bulk0[0-1]\.", verbose=False))
    assert names == [{"rrname": "bulk00.example.com.", "rrtype": "A"}, {"rrname": "bulk01.example.com.", "rrtype": "A"}]
    rdata = list(client.flex_rdata_regex(r"mail\.example\.com\.$"))
    assert {(r["rrtype"], r["rdata"]) for r in rdata} == {("MX", "10 mail.example.com."), ("PTR", "mail.example.com.")}
    mx = next(r for r in rdata if r["rrtype"] == "MX")
    assert mx["raw_rdata"] == "000A046D61696C076578616D706C6503636F6D00" and mx["count"] == 80
    globbed = {r["rrname"] for r in client.flex_rrnames_glob("*.example.org.")}
    assert globbed == {"old.example.org.", "v6.example.org.", "far.example.org.", "odd.example.org."}
    cname = list(client.flex_rdata_glob("www.example.com.", rrtype="CNAME"))
    assert [r["rdata"] for r in cname] == ["www.example.com."]


def test_flex_slash_in_regex_and_exclude(client: dnsdb2.Client) -> None:
    # "/" arrives as %2F inside one path segment: it must not split the path.
    assert list(client.flex_rdata_regex("a/b|spf1")) == list(client.flex_rdata_regex("spf1"))
    kept = {r["rrname"] for r in client.flex_rrnames_regex(r"\.example\.org\.$", exclude="^(old|odd)", verbose=False)}
    assert kept == {"v6.example.org.", "far.example.org."}


def test_flex_limit_and_offset(client: dnsdb2.Client) -> None:
    first = list(client.flex_rrnames_regex("^bulk", limit=10, ignore_limited=True))
    second = list(client.flex_rrnames_regex("^bulk", limit=10, offset=10, ignore_limited=True))
    assert [r["rrname"] for r in first + second] == [f"bulk{i:02d}.example.com." for i in range(20)]


def test_bad_requests_are_query_errors(client: dnsdb2.Client) -> None:
    with pytest.raises(dnsdb2.QueryError):
        list(client.lookup_rrset("www.example.com", rrtype="NOTATYPE"))
    with pytest.raises(dnsdb2.QueryError):
        list(client.lookup_rdata_ip("300.1.2.3"))
    with pytest.raises(dnsdb2.QueryError):
        list(client.flex_rrnames_regex(r"(a)\1"))


def test_empty_answer(client: dnsdb2.Client) -> None:
    assert list(client.lookup_rrset("nothing-here.example.org")) == []
    assert list(client.flex_rdata_regex("no-such-thing-anywhere")) == []


ZONE_TIMES = {"zone_time_first": dataset.ZONE[0], "zone_time_last": dataset.ZONE[1]}


def test_zone_only_and_mixed_rrsets_show_zone_times_as_zone_times(client: dnsdb2.Client) -> None:
    """The reference's zone-only row, exactly; a mixed row carries both pairs."""
    assert list(client.lookup_rrset(dataset.ZONE_ONLY)) == [
        {"rrname": "zone.zones.example.", "rrtype": "A", "bailiwick": "zones.example.", "rdata": ["198.18.0.50"],
         "count": 1, **ZONE_TIMES}
    ]
    assert list(client.lookup_rrset(dataset.MIXED)) == [
        {"rrname": "both.zones.example.", "rrtype": "A", "bailiwick": "zones.example.", "rdata": ["198.18.0.60"],
         "count": 3, "time_first": dataset.T1, "time_last": dataset.T1 + 1000, **ZONE_TIMES}
    ]
    (human,) = client.lookup_rrset(dataset.ZONE_ONLY, humantime=True)
    assert (human["zone_time_first"], human["zone_time_last"]) == ("2015-12-13T09:46:40Z", "2022-04-15T05:20:00Z")
    assert "time_first" not in human


def test_zone_times_on_rdata_lookups_summaries_and_flex(client: dnsdb2.Client) -> None:
    (by_ip,) = client.lookup_rdata_ip("198.18.0.50")
    assert by_ip == {"rrname": "zone.zones.example.", "rrtype": "A", "rdata": ["198.18.0.50"], "count": 1,
                     **ZONE_TIMES}
    (summary,) = client.summarize_rrset("*.zones.example", rrtype="A")
    assert summary == {"count": 4, "num_results": 2, "time_first": dataset.T1, "time_last": dataset.T1 + 1000,
                       **ZONE_TIMES}
    (zone_summary,) = client.summarize_rdata_ip("198.18.0.50")
    assert zone_summary == {"count": 1, "num_results": 1, **ZONE_TIMES}
    flex = {r["rrname"]: r for r in client.flex_rrnames_regex(r"\.zones\.example\.$", rrtype="A")}
    assert flex["zone.zones.example."] == {"rrname": "zone.zones.example.", "rrtype": "A", "count": 1, **ZONE_TIMES}
    assert flex["both.zones.example."]["time_first"] == dataset.T1


def test_fences_use_traffic_times_else_zone_times(client: dnsdb2.Client) -> None:
    """dnsdb2's own integration tests check ``res.get('time_first', res.get('zone_time_first'))``."""
    after = dataset.T1 + 2000
    rows = list(client.lookup_rrset("*.zones.example", rrtype="A", time_last_after=after))
    assert [r["rrname"] for r in rows] == ["zone.zones.example."]  # the mixed row's traffic ended before
    assert all(r.get("time_last", r.get("zone_time_last")) >= after for r in rows)
    before = list(client.lookup_rrset("*.zones.example", rrtype="A", time_first_before=dataset.T0))
    assert [r["rrname"] for r in before] == ["zone.zones.example."]  # the mixed row's zone window does not count


def test_dnssec_key_material_is_one_token(client: dnsdb2.Client) -> None:
    (row,) = client.lookup_rrset("zones.example", rrtype="DNSKEY")
    assert row["rdata"] == [dataset.DNSKEY]
    (flex,) = client.flex_rdata_regex("mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl", rrtype="DNSKEY")
    assert flex["rdata"] == dataset.DNSKEY and flex["raw_rdata"].startswith("0101030D99DB2CC1")
