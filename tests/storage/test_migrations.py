"""Migrations on a store made by an earlier schema, on every backend: nothing written before is lost.

* ``0003_zone_times``: a store created by migrations 1-2 gets rows in the
  shape the writers of that schema wrote (raw SQL, every table the
  migration touches and the ones beside them); after the migration every
  record, RRset, provenance row, negative, bare query and counter reads back
  unchanged, as traffic, and new traffic and zone-file sightings fold into
  the old rows by the window rule.
* ``0004_unbroken_rdata``: a store at schema 3 gets DNSSEC and other binary
  rdata in the form the old normalization stored (dnspython's chunks), plus
  the same records written unbroken by the new code before the migration
  ran; afterwards each record is one row in the canonical form, with the
  merged times, counts, provenance, sample links and RRsets, and the
  counters count what is left.
* ``0005_long_rdata`` (PostgreSQL; SQLite has no such migration): a store at
  schema 4 with records, RRsets, provenance and sample links keeps them all,
  new sightings fold into the old rows through the new digest keys, and
  records longer than a B-tree entry can then be written.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import psycopg
import pytest
from psycopg import sql

from tests.conftest import PG_URL
from tests.storage.builders import T0, by_name, obs, types, zone_only
from tests.storage.conftest import StoreFactory
from yapdns.core.model import Evidence, NegativeRecord, Observation, Provenance, QueryRecord, Record, SampleRef
from yapdns.core.names import reverse_name
from yapdns.core.rdata import ip_key
from yapdns.core.windows import Windows
from yapdns.storage.base import Store
from yapdns.storage.migrations import ConnectionDb
from yapdns.storage.query import RecordQuery
from yapdns.storage.sqlite.store import SqliteStore


@contextmanager
def raw(store: Store) -> Iterator[ConnectionDb]:
    """A connection of its own to the store's database, as an operator's SQL client would have."""
    if isinstance(store, SqliteStore):
        conn = sqlite3.connect(store.path, isolation_level=None)
        try:
            yield ConnectionDb(conn, "?")
        finally:
            conn.close()
        return
    with psycopg.connect(PG_URL, autocommit=True) as pg:
        pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(store.schema)))  # type: ignore[attr-defined]
        yield ConnectionDb(pg, "%s")


def _write_schema_2_rows(db: ConnectionDb) -> None:
    """What the writers of schema 2 stored for a few sightings (derived keys as they computed them)."""
    db.run("INSERT INTO prov (id, sensor, evidence, source) VALUES (1, 's1', 'direct', 'zeek')")
    db.run("INSERT INTO prov (id, sensor, evidence, source) VALUES (2, 'import', 'imported', 'dnsdb')")
    rr = (
        "INSERT INTO rr (id, rrname_rev, rrname, rrtype, rdata, ip, target_rev, time_first, time_last, count, "
        "ttl_min, ttl_max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    db.run(rr, (1, reverse_name("www.example.com"), "www.example.com", 1, "192.0.2.1", ip_key(1, "192.0.2.1"),
                None, T0, T0 + 50, 5, 60, 300))
    db.run(rr, (2, reverse_name("alias.example.com"), "alias.example.com", 5, "www.example.com", None,
                reverse_name("www.example.com"), T0 + 5, T0 + 6, 1, None, None))
    seen = "INSERT INTO rr_seen (rr_id, prov, time_first, time_last, count) VALUES (?, ?, ?, ?, ?)"
    db.run(seen, (1, 1, T0, T0 + 40, 3))
    db.run(seen, (1, 2, T0 + 10, T0 + 50, 2))
    db.run(seen, (2, 1, T0 + 5, T0 + 6, 1))
    rrset = (
        "INSERT INTO rrset (id, rrname_rev, rrname, rrtype, bailiwick, rdata, time_first, time_last, count, "
        "ttl_min, ttl_max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    db.run(rrset, (1, reverse_name("www.example.com"), "www.example.com", 1, "", "192.0.2.1", T0, T0 + 40, 3, 60,
                   300))
    db.run(rrset, (2, reverse_name("www.example.com"), "www.example.com", 1, "example.com", "192.0.2.1", T0 + 10,
                   T0 + 50, 2, None, None))
    db.run(rrset, (3, reverse_name("alias.example.com"), "alias.example.com", 5, "", "www.example.com", T0 + 5,
                   T0 + 6, 1, None, None))
    db.run(
        "INSERT INTO negative (rrname_rev, rrname, rrtype, rcode, prov, time_first, time_last, count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (reverse_name("gone.example.com"), "gone.example.com", 1, "NXDOMAIN", 1, T0, T0 + 1, 2),
    )
    db.run(
        "INSERT INTO qname (rrname_rev, rrname, rrtype, prov, time_first, time_last, count) VALUES (?,?,?,?,?,?,?)",
        (reverse_name("asked.example.com"), "asked.example.com", 16, 1, T0, T0, 1),
    )
    for name, value in (("records", 2), ("rrsets", 3), ("negatives", 1), ("queries", 1), ("observations", 9)):
        db.run("INSERT INTO counter (name, value) VALUES (?, ?)", (name, value))
    db.run("INSERT INTO type_count (rrtype, records) VALUES (1, 1)")
    db.run("INSERT INTO type_count (rrtype, records) VALUES (5, 1)")


def sql_store(store_factory: StoreFactory) -> Store:
    """An unmigrated store of a SQL backend: these migrations rewrite SQL schemas that the ClickHouse store
    (created at its own schema 1, after them) never had (docs/storage.md, "Contract relaxations")."""
    store = store_factory(migrate=False)
    if store.name == "clickhouse":
        pytest.skip("SQL schema migrations 0002-0004 do not apply to the ClickHouse store")
    return store


def test_0003_keeps_every_row_written_before_it(store_factory: StoreFactory) -> None:
    store = sql_store(store_factory)
    assert store.migrate(through=2) == ["0001_initial", "0002_name_sample"]
    with raw(store) as db:
        _write_schema_2_rows(db)
    assert store.migrate()[0] == "0003_zone_times"
    www = Record(rrname="www.example.com", rrtype="A", rdata="192.0.2.1", time_first=T0, time_last=T0 + 50,
                 count=5, ttl_min=60, ttl_max=300)
    alias = Record(rrname="alias.example.com", rrtype="CNAME", rdata="www.example.com", time_first=T0 + 5,
                   time_last=T0 + 6, count=1)
    assert store.records(by_name("*.example.com")).rows == [alias, www]
    assert store.records(RecordQuery(rdata_name=by_name("www.example.com").rrname)).rows == [alias]
    assert store.provenance("www.example.com", "A", "192.0.2.1") == [
        Provenance("import", Evidence.IMPORTED, "dnsdb", T0 + 10, T0 + 50, 2),
        Provenance("s1", Evidence.DIRECT, "zeek", T0, T0 + 40, 3),
    ]
    assert [(r.bailiwick, Windows.of(r), r.count) for r in store.rrsets(by_name("www.example.com")).rows] == [
        (None, Windows(T0, T0 + 40), 3),
        ("example.com", Windows(T0 + 10, T0 + 50), 2),
    ]
    assert store.negatives(by_name("gone.example.com")).rows == [
        NegativeRecord(rrname="gone.example.com", rrtype="A", rcode="NXDOMAIN", time_first=T0, time_last=T0 + 1,
                       count=2)
    ]
    assert store.queries(by_name("asked.example.com")).rows == [
        QueryRecord(rrname="asked.example.com", rrtype="TXT", time_first=T0, time_last=T0, count=1)
    ]
    stats = store.stats()
    assert (stats.records, stats.rrsets, stats.negatives, stats.queries, stats.observations) == (2, 3, 1, 1, 9)
    assert stats.records_by_type == {"A": 1, "CNAME": 1}
    # old rows are traffic rows: a zone-file sighting adds a zone window, a traffic sighting widens the window
    store.write([zone_only("www.example.com", "A", "192.0.2.1", zone=(T0 - 500, T0 + 500), sensor="import",
                           evidence=Evidence.IMPORTED, source="dnsdb")])
    store.write([obs("www.example.com", "A", "192.0.2.1", first=T0 + 60, last=T0 + 70, source="zeek")])
    rec = store.records(by_name("www.example.com")).rows[0]
    assert (Windows.of(rec), rec.count) == (Windows(T0, T0 + 70, T0 - 500, T0 + 500, zone_only=False), 7)
    assert store.stats().records == 2


def _key(size: int, seed: int) -> str:
    return base64.b64encode(bytes((seed + i) % 256 for i in range(size))).decode()


def _chunked(rrtype: str, text: str) -> str:
    """The rdata text the old normalization stored: dnspython's default, binary fields in chunks."""
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rrtype), text)
    return rd.to_text()


K1 = f"257 3 13 {_key(64, 1)}"
K2 = f"256 3 13 {_key(64, 7)}"
DS = f"4711 13 99 {bytes(range(100)).hex()}"
GENERIC = f"\\# 80 {bytes(range(80)).hex()}"
TXT = '"a b" "c  d"'
SHA = "ab" * 32


def _old(name: str, rrtype: str, *rdata: str, first: int, last: int, count: int = 1, sensor: str = "s1",
         sample: str | None = None, bailiwick: str | None = None) -> Observation:
    """An observation as the old normalization handed it to the store (written without normalizing again)."""
    return Observation(rrname=name, rrtype=rrtype, rdata=tuple(sorted(rdata)), time_first=first, time_last=last,
                       count=count, sensor_id=sensor, source="zeek", bailiwick=bailiwick,
                       sample=SampleRef(sample) if sample else None)


def test_0004_rewrites_chunked_rdata_and_merges_rows_that_collide(store_factory: StoreFactory) -> None:
    store = sql_store(store_factory)
    store.migrate(through=3)
    k1, k2 = _chunked("DNSKEY", K1), _chunked("DNSKEY", K2)
    assert " " in k1[9:] and _chunked("DS", DS).count(" ") > 3 and _chunked("TYPE65534", GENERIC).count(" ") > 2
    store.write(  # by the old code: chunked
        [
            _old("example.com", "DNSKEY", k1, k2, first=T0, last=T0 + 10, count=2),
            _old("example.com", "DNSKEY", k1, first=T0 + 20, last=T0 + 30, sensor="s2", sample=SHA),
            _old("example.com", "DS", _chunked("DS", DS), first=T0, last=T0),
            _old("example.com", "TYPE65534", _chunked("TYPE65534", GENERIC), first=T0, last=T0),
            _old("example.com", "TXT", TXT, first=T0, last=T0),
        ]
    )
    store.write(  # by the new code, before the migration ran: unbroken
        [
            obs("example.com", "DNSKEY", K1, first=T0 - 5, last=T0 + 1, count=4, ttl=3600, sensor="s2", sample=SHA),
            obs("example.com", "DNSKEY", K2, K1, first=T0 + 40, last=T0 + 41, sensor="s1"),
            zone_only("example.com", "DNSKEY", K1, zone=(T0 - 900, T0 + 900), sensor="import",
                      evidence=Evidence.IMPORTED, source="dnsdb", bailiwick="com"),
        ]
    )
    before = store.stats()
    assert (before.records, before.rrsets, before.records_by_type["DNSKEY"]) == (7, 8, 4)
    assert store.migrate()[0] == "0004_unbroken_rdata"

    dnskeys = store.records(by_name("example.com", types=types("DNSKEY"))).rows
    assert [(r.rdata, Windows.of(r), r.count, r.ttl_max) for r in dnskeys] == sorted(
        [
            (K1, Windows(T0 - 5, T0 + 41, T0 - 900, T0 + 900, zone_only=False), 9, 3600),
            (K2, Windows(T0, T0 + 41), 3, None),
        ]
    )
    assert [(p.sensor_id, Windows.of(p), p.count) for p in store.provenance("example.com", "DNSKEY", K1)] == [
        ("import", Windows(T0 - 900, T0 + 900, T0 - 900, T0 + 900, zone_only=True), 1),
        ("s1", Windows(T0, T0 + 41), 3),
        ("s2", Windows(T0 - 5, T0 + 30), 5),
    ]
    assert [(s.sha256, s.time_first, s.time_last, s.count) for s in store.samples("example.com", "DNSKEY", K1)] == [
        (SHA, T0 - 5, T0 + 30, 5)
    ]
    assert [r.rdata for r in store.records(RecordQuery(sample=SHA)).rows] == [K1]
    rrsets = store.rrsets(by_name("example.com", types=types("DNSKEY"))).rows
    assert sorted((r.bailiwick or "", r.rdata, r.count, Windows.of(r).traffic) for r in rrsets) == sorted(
        [
            ("", (K1,), 5, (T0 - 5, T0 + 30)),
            ("", tuple(sorted((K1, K2))), 3, (T0, T0 + 41)),
            ("com", (K1,), 1, None),
        ]
    )
    others = {r.rrtype: r.rdata for r in store.records(by_name("example.com", types=types("DS,TXT,TYPE65534"))).rows}
    assert others == {"DS": DS, "TXT": TXT, "TYPE65534": GENERIC}  # TXT keeps its spaces: they are its data
    after = store.stats()
    assert (after.records, after.rrsets, after.records_by_type["DNSKEY"]) == (5, 6, 2)
    store.write([obs("example.com", "DNSKEY", _chunked("DNSKEY", K1), first=T0 + 50)])  # normalized on the way in
    counts = {r.rdata: r.count for r in store.records(by_name("example.com", types=types("DNSKEY"))).rows}
    assert (counts, store.stats().records) == ({K1: 10, K2: 3}, 5)


def test_0005_keys_old_rows_by_digest_and_takes_long_records(store_factory: StoreFactory) -> None:
    store = store_factory(migrate=False)
    store.migrate(through=4)
    old = [
        obs("www.example.com", "A", "192.0.2.1", "192.0.2.2", count=2, sample=SHA),
        obs("www.example.com", "TXT", TXT, bailiwick="example.com"),
        obs("alias.example.com", "CNAME", "www.example.com", sensor="s2"),
    ]
    store.write(old)

    def state() -> tuple[object, ...]:
        stats = store.stats()
        return stats.records, stats.rrsets, stats.records_by_type, store.records(by_name("*.example.com", limit=100)).rows

    before = state()
    done = store.migrate(through=5)
    assert done == (["0005_long_rdata"] if store.name == "postgresql" else [])
    assert state() == before
    store.write(old)  # folds into the rows written before the migration
    counts = {(r.rrtype, r.rdata): r.count for r in store.records(by_name("*.example.com", limit=100)).rows}
    assert counts == {("A", "192.0.2.1"): 4, ("A", "192.0.2.2"): 4, ("TXT", TXT): 2, ("CNAME", "www.example.com"): 2}
    assert store.stats().records == 4
    assert [s.count for s in store.samples("www.example.com", "A", "192.0.2.1")] == [4]
    assert [(p.sensor_id, p.count) for p in store.provenance("alias.example.com", "CNAME", "www.example.com")] == [
        ("s2", 2)
    ]
    long_txt = " ".join(f'"{i:03d}{base64.b64encode(bytes(range(i, i + 180))).decode()}"' for i in range(40))
    store.write([obs("www.example.com", "TXT", long_txt)])
    assert {r.rdata for r in store.records(by_name("www.example.com", types=types("TXT"))).rows} == {TXT, long_txt}
    assert [r.rrname for r in store.records(RecordQuery(rdata="www.example.com")).rows] == ["alias.example.com"]
