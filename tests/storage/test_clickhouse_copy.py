"""``yapdns store copy``: a SQLite store written by the real write path is copied into ClickHouse (18.16 and chDB)
in small chunks; every read then answers the same on both, a copy stopped half-way finishes on a rerun, and a
rerun applies nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.storage.builders import T0, by_name, obs, zone_only
from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.cli import main
from yapdns.core.model import Evidence
from yapdns.storage.base import BatchRef, Store, WriteOutcome
from yapdns.storage.clickhouse import copy
from yapdns.storage.clickhouse.store import ClickHouseStore
from yapdns.storage.context import IpContextRow
from yapdns.storage.sqlite.store import SqliteStore

pytestmark = pytest.mark.clickhouse
NAMES = [f"h{i}.copy.example" for i in range(12)]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
    """A SQLite store with every row kind: several provenances, zone windows, RRsets, negatives, bare queries,
    sample links, address context, applied batch ids."""
    store = SqliteStore(tmp_path_factory.mktemp("copy") / "store.sqlite3", cache_mb=8)
    _fill(store)
    yield store
    store.close()


def _fill(store: Store) -> None:
    store.migrate()
    for n, name in enumerate(NAMES):
        store.write([
            obs(name, "A", f"192.0.2.{n}", first=T0 + n, last=T0 + 100 + n, count=n + 1, ttl=300),
            obs(name, "A", f"192.0.2.{n}", first=T0 - 50, count=2, sensor="s2", evidence=Evidence.INDIRECT,
                sample="a" * 64),
            obs(name, "A", f"192.0.2.{n}", f"198.51.100.{n}", first=T0 + 5, ttl=60, bailiwick="copy.example"),
            obs(name, "AAAA", rcode="NXDOMAIN", first=T0 + 7, count=3),
            obs(name, "TXT", first=T0 + 9),
            zone_only(name, "NS", "ns1.copy.example", zone=(T0 - 1000, T0 - 900)),
        ], BatchRef("s1", f"b{n}", accepted=6))  # fmt: skip
    store.add_ip_context([IpContextRow(ip="192.0.2.1", source="GeoLite2-ASN", data_date=T0, asn=64500,
                                       as_name="AS-X", prefix="192.0.2.0/24", country="NL")])  # fmt: skip


@pytest.fixture(params=["clickhouse", "chdb"])
def target_url(request: pytest.FixtureRequest) -> Iterator[str]:
    url = clickhouse_url(request, request.param, f"copy_{uuid.uuid4().hex[:10]}")
    yield url
    drop_clickhouse_database(url)


def _reads(store: Store) -> list[object]:
    query = by_name("*.copy.example", limit=1000)
    out: list[object] = [store.records(query).rows, store.rrsets(query).rows, store.negatives(query).rows,
                         store.queries(query).rows, store.ip_context(["192.0.2.1"]), store.sensors()]  # fmt: skip
    for record in store.records(query).rows:
        out += [store.provenance(record.rrname, record.rrtype, record.rdata),
                store.samples(record.rrname, record.rrtype, record.rdata)]  # fmt: skip
    return out


class _Stop(Exception):
    pass


def test_a_copy_stopped_half_way_finishes_on_a_rerun_and_reads_the_same(source: SqliteStore, target_url: str) -> None:
    target = ClickHouseStore(target_url)
    target.migrate()
    load, calls = target.load, []

    def stopping(*args: object) -> bool:
        calls.append(1)
        if len(calls) == 4:
            raise _Stop  # the copy dies between two chunks
        return load(*args)  # type: ignore[arg-type]

    target.load = stopping  # type: ignore[method-assign]
    with pytest.raises(_Stop):
        copy.copy(source, target, size=5)
    target.load = load  # type: ignore[method-assign]
    report = copy.copy(source, target, size=5)
    assert (report.skipped, report.applied) == (3, len(copy.plan(source, 5)) - 3) and report.context_rows == 1
    assert copy.verify(source, target).same
    assert _reads(target) == _reads(source)
    assert [d.rrname for d in target.discoveries(0).rows] == NAMES  # numbered in the source's order
    again = copy.copy(source, target, size=5)
    assert (again.applied, again.context_rows) == (0, 0)
    assert _reads(target) == _reads(source)
    assert target.write([obs("x.copy.example", "A", "192.0.2.99")], BatchRef("s1", "b3")) == WriteOutcome(True, 6, 0)
    target.close()


def test_the_command_copies_and_verifies(source: SqliteStore, target_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["store", "copy", "--from", f"sqlite:///{source.path}", "--to", target_url, "--chunk", "7"]
    first = runner.invoke(main, args, env={"YAPDNS_DATA_DIR": str(tmp_path)})
    assert first.exit_code == 0, first.output
    assert "verified" in first.output and "already applied before: 0" in first.output
    second = runner.invoke(main, args, env={"YAPDNS_DATA_DIR": str(tmp_path)})
    assert second.exit_code == 0 and "chunks applied: 0" in second.output, second.output


@pytest.mark.postgres
def test_a_postgresql_store_copies_the_same(request: pytest.FixtureRequest) -> None:
    from tests.conftest import PG_URL
    from tests.storage.conftest import _drop_schema
    from yapdns.storage.postgres.store import PostgresStore

    schema = f"yapdns_copy_{uuid.uuid4().hex[:10]}"
    source = PostgresStore(f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}", pool_size=2)
    url = clickhouse_url(request, "chdb", f"copy_{uuid.uuid4().hex[:10]}")
    target = ClickHouseStore(url)
    try:
        _fill(source)
        target.migrate()
        copy.copy(source, target, size=8)
        assert copy.verify(source, target).same and _reads(target) == _reads(source)
    finally:
        target.close()
        source.close()
        drop_clickhouse_database(url)
        _drop_schema(schema)
