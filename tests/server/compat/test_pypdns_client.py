"""Every call of the real ``pypdns`` client (PyPI) against a live YAPDNS server's CIRCL endpoint."""

from __future__ import annotations

import pypdns
import pytest

from tests.server.compat import dataset
from tests.server.compat.conftest import CompatServer


@pytest.fixture(scope="module")
def pdns(live: CompatServer) -> pypdns.PyPDNS:
    return pypdns.PyPDNS(url=f"{live.url}/pdns/query", basic_auth=(live.user, live.token))


def _keys(records: list[pypdns.PDNSRecord]) -> set[tuple[str, str, str]]:
    return {(r.rrname, r.rrtype, str(r.rdata)) for r in records}


def test_name_query_forward_and_inverse(pdns: pypdns.PyPDNS) -> None:
    records = pdns.rfc_query("www.example.com")
    assert _keys(records) == {
        ("www.example.com", "A", "192.0.2.1"), ("www.example.com", "A", "192.0.2.2"),
        ("www.example.com", "A", "192.0.2.3"), ("www.example.com", "AAAA", "2001:db8::1"),
        ("alias.example.com", "CNAME", "www.example.com"),
    }
    first = next(r for r in records if r.rdata == "192.0.2.1")
    assert (first.count, first.time_first, first.time_last, first.origin) == (102, dataset.T0, dataset.T1, "urn:yapdns")


@pytest.mark.parametrize("key", ["count", "rdata", "rrname", "rrtype", "time_first", "time_last"])
def test_sorting_on_every_key(pdns: pypdns.PyPDNS, key: str) -> None:
    records = pdns.rfc_query("example.com", sort_by=key)
    values = [r.raw[key] for r in records]
    assert values == sorted(values) and len(values) >= 6


def test_rdata_forms_without_trailing_dots(pdns: pypdns.PyPDNS) -> None:
    rdata = {r.rrtype: r.rdata for r in pdns.rfc_query("example.com", filter_rrtype="MX")}
    assert rdata == {"MX": "10 mail.example.com"}
    soa = pdns.rfc_query("example.com", filter_rrtype="SOA")
    assert [r.rdata for r in soa] == ["ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300"]
    srv = pdns.rfc_query("_sip._tcp.example.com")
    assert [r.rdata for r in srv] == ["10 60 5060 sip.example.com"]


def test_ip_and_cidr_queries(pdns: pypdns.PyPDNS) -> None:
    assert {r.rrname for r in pdns.rfc_query("192.0.2.1")} == {"www.example.com", "www.example.net"}
    assert {r.rdata for r in pdns.rfc_query("192.0.2.0/24")} == {
        "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.25", "192.0.2.80"}
    assert {r.rrname for r in pdns.rfc_query("2001:db8::/32")} == {"www.example.com", "v6.example.org"}


def test_idn_query_in_utf8(pdns: pypdns.PyPDNS) -> None:
    assert [r.rrname for r in pdns.rfc_query(dataset.IDN_ULABEL)] == [dataset.IDN_ALABEL]


def test_filter_rrtype(pdns: pypdns.PyPDNS) -> None:
    assert {r.rrtype for r in pdns.rfc_query("www.example.com", filter_rrtype="AAAA")} == {"AAAA"}
    assert pdns.rfc_query("www.example.com", filter_rrtype="NOTATYPE") == []


def test_iter_query_pages_across_cursor(pdns: pypdns.PyPDNS) -> None:
    records = list(pdns.iter_query("203.0.113.10"))  # pages of 50: two requests
    names = [r.rrname for r in records]
    assert sorted(names) == [f"bulk{i:02d}.example.com" for i in range(dataset.BULK)]
    assert len(set(names)) == dataset.BULK


def test_iter_query_name_spans_both_phases(pdns: pypdns.PyPDNS) -> None:
    assert _keys(list(pdns.iter_query("www.example.com"))) == _keys(pdns.rfc_query("www.example.com"))


def test_unpaged_answer_is_capped_with_dribble_errors(pdns: pypdns.PyPDNS) -> None:
    records, errors = pdns.rfc_query("203.0.113.10", with_errors=True)
    assert len(records) == 50  # YAPDNS_CIRCL_MAX_ROWS of the live server
    assert errors == {"error": "maxset", "value": 50}
    assert pdns.rfc_query("192.0.2.1", with_errors=True)[1] == {}


def test_unnamed_type_makes_rrtype_numeric_for_the_answer(pdns: pypdns.PyPDNS) -> None:
    records = pdns.rfc_query("odd.example.org", sort_by="rrtype")
    assert [r.raw["rrtype"] for r in records] == [65534]
    assert records[0].rdata == "\\# 4 0a0b0c0d"


def test_no_result_is_empty(pdns: pypdns.PyPDNS) -> None:
    assert pdns.rfc_query("nothing-here.example.org") == []
    assert list(pdns.iter_query("nothing-here.example.org")) == []


def test_deprecated_query_and_raw_token(live: CompatServer) -> None:
    token_client = pypdns.PyPDNS(url=f"{live.url}/pdns/query", auth_token=live.token, disable_active_query=True)
    rows = token_client.query("mail.example.com")
    assert {row["rrtype"] for row in rows} == {"A", "MX", "PTR"}
    assert all(row["time_first"].tzinfo is not None for row in rows)


def test_wrong_credentials(live: CompatServer) -> None:
    with pytest.raises(pypdns.UnauthorizedError):
        pypdns.PyPDNS(url=f"{live.url}/pdns/query", basic_auth=(live.user, "wrong")).rfc_query("example.com")
    with pytest.raises(pypdns.UnauthorizedError):
        pypdns.PyPDNS(url=f"{live.url}/pdns/query", basic_auth=("mallory", live.token)).rfc_query("example.com")
    with pytest.raises(pypdns.UnauthorizedError):
        pypdns.PyPDNS(url=f"{live.url}/pdns/query").rfc_query("example.com")


def test_zone_only_and_mixed_records(pdns: pypdns.PyPDNS) -> None:
    """COF zone times ride along; pypdns refuses a record without time_first/time_last, so a zone-only one repeats
    its zone times there (the zone_time_* keys tell the two apart)."""
    zone = {"zone_time_first": dataset.ZONE[0], "zone_time_last": dataset.ZONE[1]}
    records = {r.rrname: r.raw for r in pdns.rfc_query("198.18.0.0/24", sort_by="time_first")}
    assert records == {
        dataset.ZONE_ONLY: {"rrname": dataset.ZONE_ONLY, "rrtype": "A", "rdata": "198.18.0.50",
                            "time_first": dataset.ZONE[0], "time_last": dataset.ZONE[1], **zone, "count": 1,
                            "origin": "urn:yapdns"},
        dataset.MIXED: {"rrname": dataset.MIXED, "rrtype": "A", "rdata": "198.18.0.60", "time_first": dataset.T1,
                        "time_last": dataset.T1 + 1000, **zone, "count": 3, "origin": "urn:yapdns"},
    }


def test_dnssec_key_material_is_one_token(pdns: pypdns.PyPDNS) -> None:
    assert [r.rdata for r in pdns.rfc_query("zones.example", filter_rrtype="DNSKEY")] == [dataset.DNSKEY]
