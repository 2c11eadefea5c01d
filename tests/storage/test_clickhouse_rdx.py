"""``rdx`` (the rdata-ordered table of the ClickHouse store) keeps one row per record, whatever its provenances,
and a store whose ``rdx`` still holds the per-provenance rows of the writer before migration 0004 reads the same
(18.16 and chDB)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from msgspec.structs import replace

from tests.storage.builders import T0, by_ip, by_target, obs
from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
from yapdns.core.model import Observation
from yapdns.storage.aggregate import BatchAggregate
from yapdns.storage.base import BatchRef
from yapdns.storage.clickhouse import writer as w
from yapdns.storage.clickhouse.schema import RDX_KEY, STATE_COLUMNS, RKind
from yapdns.storage.clickhouse.store import ClickHouseStore
from yapdns.storage.query import RecordQuery

pytestmark = pytest.mark.clickhouse
SENSORS = ("s1", "s2", "s3", "s4")


def _sightings(shift: int) -> list[Observation]:
    out = []
    for i, sensor in enumerate(SENSORS):
        t = T0 + shift + 10 * i
        out += [
            obs("a.rdx.example", "A", "192.0.2.1", first=t, last=t + 5, count=i + 1, sensor=sensor, ttl=60 + i),
            obs(f"b{i % 2}.rdx.example", "A", "192.0.2.7", first=t + 1, sensor=sensor),
            obs("v6.rdx.example", "AAAA", "2001:db8::1", first=t, count=2, sensor=sensor),
            obs("c.rdx.example", "CNAME", "target.rdx.example", first=t, sensor=sensor),
            obs("m.rdx.example", "MX", "10 mail.rdx.example", first=t, sensor=sensor),
            obs("t.rdx.example", "TXT", f'"v{i % 2}"', first=t, sensor=sensor),
        ]
    return out


def _queries() -> list[RecordQuery]:
    keys = [by_ip("192.0.2.1"), by_ip("2001:db8::1"), by_ip("192.0.2.0/24", limit=1000),
            by_target("target.rdx.example"), by_target("mail.rdx.example"), RecordQuery(rdata='"v1"')]  # fmt: skip
    return keys + [replace(q, sensor=s) for q in keys for s in ("s1", "s4")]


@pytest.fixture(params=["clickhouse", "chdb"])
def open_store(request: pytest.FixtureRequest) -> Iterator[object]:
    urls: list[str] = []
    stores: list[ClickHouseStore] = []

    def make() -> ClickHouseStore:
        url = clickhouse_url(request, request.param, f"rdx_{uuid.uuid4().hex[:10]}")
        urls.append(url)
        stores.append(ClickHouseStore(url))
        stores[-1].migrate()
        return stores[-1]

    yield make
    for store in stores:
        store.close()
    for url in urls:
        drop_clickhouse_database(url)


def _rdx_rows(store: ClickHouseStore) -> tuple[int, int]:
    """Rows of ``rdx`` after a final merge, and its distinct record keys (batch markers aside)."""
    store._conn.command(f"OPTIMIZE TABLE {store.db}.rdx FINAL")
    ((rows, keys),) = store._rows(
        f"SELECT count(), uniqExact(rkind, rkey, rrname_rev, rrtype, rdata) FROM {store.db}.rdx "
        f"WHERE rkind != {int(RKind.BATCH)}"
    )
    return int(rows), int(keys)


def test_rdx_holds_one_row_per_record_whatever_its_provenances(open_store: object) -> None:
    store = open_store()  # type: ignore[operator]
    store.write(_sightings(0), BatchRef("w", "one"))
    store.write(_sightings(100), BatchRef("w", "two"))
    rows, keys = _rdx_rows(store)
    assert rows == keys == 10  # 4 address records, 2 targets, 4 rdata texts of the non-address records
    (one,) = store.records(by_ip("192.0.2.1", sensor="s2")).rows  # a sensor's share, read from entry
    assert (one.count, one.time_first, one.time_last, one.ttl_min, one.ttl_max) == (4, T0 + 10, T0 + 115, 60, 63)


def _old_rdx_part(store: ClickHouseStore, sightings: list[Observation]) -> None:
    """What the writer before 0004 inserted: rdx rows through ``rdx_in``, one per record and provenance."""
    names = w.Names()
    by_prov: dict[str | None, list[Observation]] = {}  # the sightings' provenances differ by sensor only
    for o in sightings:
        by_prov.setdefault(o.sensor_id, []).append(o)
    columns: list[list[object]] = [[] for _ in RDX_KEY + STATE_COLUMNS]
    for group in by_prov.values():
        agg = BatchAggregate()
        agg.add_all(group)
        provs = w._ids(agg.prov_keys())
        (prov,) = provs.values()
        rr = w.RrColumns([w.RrPart.of(agg.fold(provs).rr)], names, T0)
        part, _ = w.rdx_rows(rr, names)
        n = len(part)
        for column, values in zip(columns, [*part.data[:5], [prov] * n, *part.data[5:], [0] * n], strict=True):
            column.extend(values)
    store._conn.insert("rdx_in", RDX_KEY + STATE_COLUMNS, columns)


def test_a_store_with_per_provenance_rdx_rows_reads_the_same(
    open_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written before 0004 (per-provenance rows through ``rdx_in``), then after it: every rdata lookup, with
    and without a sensor filter, answers what a store written after 0004 only answers."""
    old, new = open_store(), open_store()  # type: ignore[operator]
    first, second = _sightings(0), _sightings(500)
    old._conn.command(f"CREATE TABLE {old.db}.rdx_void AS {old.db}.rdx_rec_in")  # the new rdx part goes nowhere
    with monkeypatch.context() as patch:
        patch.setitem(w.INPUTS, "rdx", "rdx_void")
        old.write(first, BatchRef("w", "one"))
    _old_rdx_part(old, first)
    new.write(first, BatchRef("w", "one"))
    for store in (old, new):
        store.write(second, BatchRef("w", "two"))
    for q in _queries():
        assert old.records(q).rows == new.records(q).rows, q
    assert _rdx_rows(old)[0] > _rdx_rows(new)[0]  # the old rows stay per provenance


def test_filtered_rdata_pages_are_the_same_in_chunks_of_one(open_store: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sensor-filtered rdata page looks its records up chunk by chunk; the pages (rows, cursor, ``limited``) do
    not depend on the chunk size."""
    from yapdns.storage.clickhouse import store as module

    store = open_store()  # type: ignore[operator]
    store.write(_sightings(0), BatchRef("w", "one"))
    store.write([*(obs(f"x{i}.rdx.example", "A", f"192.0.2.{10 + i}", sensor="s1" if i % 3 else "s2") for i in range(12)),
                 obs("z.rdx.example", "A", "192.0.2.200", sensor="s9")], BatchRef("w", "two"))  # fmt: skip

    def pages(q: RecordQuery) -> list[tuple[list[str], bool]]:
        out, cursor = [], None
        while True:
            page = store.records(replace(q, cursor=cursor))
            out.append(([f"{r.rrname} {r.rdata} {r.count}" for r in page.rows], page.limited))
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    cidr = "192.0.2.0/24"
    queries = [replace(q, limit=2) for q in _queries() if q.sensor is not None]
    queries += [by_ip(cidr, sensor="s2", limit=2), by_ip(cidr, sensor="s9", limit=1)]  # s9: behind 18 other records
    whole = [pages(q) for q in queries]
    monkeypatch.setattr(module, "FILTERED_CHUNK_MIN", 1)
    assert [pages(q) for q in queries] == whole
    assert len(whole[4]) > 2 and whole[-1] == [(["z.rdx.example 192.0.2.200 1"], False)]
