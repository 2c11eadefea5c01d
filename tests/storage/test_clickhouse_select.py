"""The ClickHouse store's read plan: a point lookup runs on one thread, the plain clauses are ``PREWHERE`` (the
aggregate states are read only where a key matched), subqueries stay in ``WHERE``; a statement's own settings
reach 18.16 and chDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.storage.clickhouse import select
from yapdns.storage.clickhouse.schema import Kind
from yapdns.storage.context import ContextFilter
from yapdns.storage.query import IpRange, NameMatch, RecordQuery


@pytest.mark.parametrize(
    "query",
    [
        RecordQuery(rrname=NameMatch.parse("www.example.com")),
        RecordQuery(rdata_ip=IpRange.parse("192.0.2.1")),
        RecordQuery(rdata_ip=IpRange.parse("2001:db8::1")),
        RecordQuery(rdata_name=NameMatch.parse("mx.example.net")),
        RecordQuery(rdata="10 mx.example.net"),
    ],
    ids=["name", "ipv4", "ipv6", "rdata-name", "rdata"],
)
def test_point_lookups_run_on_one_thread(query: RecordQuery) -> None:
    assert select.record_select("db", query, None, 10).settings == {"max_threads": 1}


@pytest.mark.parametrize(
    "query",
    [
        RecordQuery(rrname=NameMatch.parse("*.example.com")),
        RecordQuery(rrname=NameMatch.parse("www.example.*")),
        RecordQuery(rdata_ip=IpRange.parse("192.0.2.0/24")),
        RecordQuery(rdata_name=NameMatch.parse("*.example.net")),
        RecordQuery(rrname=NameMatch.parse("www.example.com"), context=ContextFilter(asn=64500)),
    ],
    ids=["left-wildcard", "right-wildcard", "cidr", "rdata-wildcard", "context"],
)
def test_ranges_and_scans_keep_the_servers_threads(query: RecordQuery) -> None:
    assert select.record_select("db", query, None, 10).settings == {}


def test_plain_clauses_are_prewhere() -> None:
    text = select.record_select("db", RecordQuery(rrname=NameMatch.parse("www.example.com")), None, 10).text
    assert f"FROM db.entry PREWHERE kind = {int(Kind.RR)} AND rrname_rev = %(p0)s GROUP BY" in text
    assert " WHERE " not in text.replace(" PREWHERE ", " ")


def test_subqueries_stay_in_where() -> None:
    """A sample's or a context's ``IN (SELECT ...)`` is evaluated after the key clauses, not before them."""
    sample = select.record_select("db", RecordQuery(sample="ab" * 32), None, 10).text
    assert f"PREWHERE kind = {int(Kind.RR)} WHERE (rrname_rev, rrtype, k1) IN (SELECT" in sample
    context = select.record_select("db", RecordQuery(rdata_ip=IpRange.parse("192.0.2.0/24"),
                                                     context=ContextFilter(asn=64500)), None, 10).text  # fmt: skip
    assert "PREWHERE rkind = 1 AND rkey >= %(p1)s AND rkey <= %(p2)s WHERE rkey GLOBAL IN (SELECT" in context
    rrsets = select.grouped_select("db", Kind.QUERY, RecordQuery(sample="ab" * 32), None, 10).text
    assert f"PREWHERE kind = {int(Kind.QUERY)} WHERE (rrname_rev, rrtype, '') IN (SELECT" in rrsets


@pytest.fixture(params=[pytest.param("clickhouse", marks=pytest.mark.clickhouse),
                        pytest.param("chdb", marks=pytest.mark.clickhouse)])  # fmt: skip
def connection(request: pytest.FixtureRequest) -> Iterator[select.Any]:
    from yapdns.storage.clickhouse.client import connect

    url = clickhouse_url(request, request.param, "yapdns_test_select")
    conn = connect(url)
    yield conn
    conn.close()
    drop_clickhouse_database(url)


def test_a_statements_settings_reach_the_server(connection: select.Any) -> None:
    sql = "SELECT value FROM system.settings WHERE name = %(n)s"
    assert connection.rows(sql, {"n": "max_threads"}, {"max_threads": 3}) == [("3",)]
    assert connection.rows(sql, {"n": "max_threads"}) != [("3",)]
    spill = connection.rows(sql, {"n": "max_bytes_before_external_group_by"}, {"max_threads": 3})
    assert spill == [(str(512 << 20),)]  # the read settings still hold beside a statement's own
