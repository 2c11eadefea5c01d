"""The per-name rollup (``Store.name_rollup``, ``storage/rollup.py``, migration 0009) on SQLite and PostgreSQL,
and its reading of ``entry`` on ClickHouse (``storage/clickhouse/rollup.py``).

The oracle is the contract's own per-record reads: every figure of a name's (or a zone's) rollup must equal what
``iter_records``, ``iter_rrsets`` and ``provenance`` give for the same names, after grouped and concurrent
writes, replayed batch ids, zone-file sightings, the fill of migration 0009 and a retention prune; and
ClickHouse's answers equal SQLite's for the same batches. The journal, its drains and the table's fills are the
SQL backends' own (``sql_factory``).
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable
from functools import reduce
from typing import Any

import pytest
from msgspec.structs import replace

from tests.storage.builders import T0, obs
from tests.storage.conftest import StoreFactory
from tests.storage.rollup_reference import four_pass_rollup
from yapdns.core.model import Evidence, Observation
from yapdns.core.names import reverse_name
from yapdns.core.normalize import MAX_COUNT
from yapdns.core.windows import Windows, combine
from yapdns.storage import rollup
from yapdns.storage.base import BatchRef, NameRollup, Store
from yapdns.storage.prune import Prunable, RetentionPolicy
from yapdns.storage.query import NameMatch, RecordQuery

NAMES = ("flux.test", "a.flux.test", "b.flux.test", "x.y.flux.test", "other.test")
PROVS = (("s1", Evidence.DIRECT, "zeek"), ("s2", Evidence.DIRECT, "pcap"), ("imp", Evidence.IMPORTED, "dnsdb"))


@pytest.fixture
def sql_factory(store_factory: StoreFactory, request: pytest.FixtureRequest) -> StoreFactory:
    """``store_factory`` on the SQL backends only (skipped before any ClickHouse database is made)."""
    if request.node.callspec.params["store_factory"] not in ("sqlite", "postgresql"):
        pytest.skip("the rollup journal and table are the SQL backends' (ClickHouse reads entry)")
    return store_factory


def sightings(seed: int, n: int, base: int = T0) -> list[Observation]:
    """``n`` observations over ``NAMES``: single and multi-RR answers, three provenances, zone-file sightings."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        name = rnd.choice(NAMES)
        sensor, evidence, source = rnd.choice(PROVS)
        first = base + rnd.randrange(0, 10_000)
        kind = rnd.random()
        common: dict[str, Any] = {"first": first, "last": first + rnd.randrange(0, 500), "count": rnd.randrange(1, 9),
                                  "sensor": sensor, "evidence": evidence, "source": source}
        if kind < 0.6:
            rdata = tuple(f"192.0.2.{rnd.randrange(1, 40)}" for _ in range(rnd.randrange(1, 4)))
            out.append(obs(name, "A", *rdata, **common))
        elif kind < 0.8:
            out.append(obs(name, "TXT", f'"v{rnd.randrange(5)}"', **common))
        else:
            zone = (first - rnd.randrange(0, 3000), first + rnd.randrange(0, 3000))
            out.append(obs(name, "A", f"198.51.100.{rnd.randrange(1, 6)}", zone=zone, traffic=kind < 0.9, **common))
    return out


def write_all(store: Store, batches: list[list[Observation]], threads: int = 3, prefix: str = "b") -> None:
    """Write the batches from ``threads`` clients at once (the writer groups them), then replay two of them."""
    write_at_once([store] * threads, batches, prefix)
    for i in (0, len(batches) - 1):
        assert store.write(batches[i], BatchRef("s", f"{prefix}{i}")).replayed


def write_at_once(clients: list[Store], batches: list[list[Observation]], prefix: str,
                  after: Callable[[Store, int], None] | None = None) -> None:
    """Write the batches from one thread per client store at once, each taking the next batch left (batch id
    ``prefix`` + its index); ``after`` runs in the thread after each write."""
    todo = iter(range(len(batches)))
    lock = threading.Lock()

    def client(store: Store) -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            store.write(batches[i], BatchRef("s", f"{prefix}{i}"))
            if after is not None:
                after(store, i)

    workers = [threading.Thread(target=client, args=(s,)) for s in clients]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def journal_rows(store: Store) -> int:
    """Rows in the rollup journal (through the store's own reading connection)."""
    return int(store._rows("SELECT count(*) FROM rollup_journal")[0][0])  # type: ignore[attr-defined]


def hull(items: list[Any]) -> Windows | None:
    return reduce(combine, map(Windows.of, items)) if items else None


def oracle(store: Store, match: NameMatch) -> dict[str, Any]:
    """The rollup's figures computed from the per-record reads."""
    records = list(store.iter_records(RecordQuery(rrname=match, limit=1_000_000)))
    rrsets = list(store.iter_rrsets(RecordQuery(rrname=match, limit=1_000_000)))
    per_type: dict[str, list[Any]] = defaultdict(list)
    provs: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for r in records:
        per_type[r.rrtype].append(r)
        for p in store.provenance(r.rrname, r.rrtype, r.rdata):
            provs[(p.sensor_id, str(p.evidence), p.source)].append(p)
    whole = hull(records)
    return {
        "names": len({r.rrname for r in records}),
        "records": len(records),
        "rrsets": len(rrsets),
        "count": sum(r.count for r in records),
        "traffic": None if whole is None or whole.zone_only else (whole.time_first, whole.time_last),
        "zone": None if whole is None else whole.zone,
        "types": {t: (len(rs), sum(r.count for r in rs), hull(rs)[:2]) for t, rs in per_type.items()},  # type: ignore[index]
        "seen": {k: (sum(p.count for p in ps), hull(ps)) for k, ps in provs.items()},
    }


def figures(got: NameRollup) -> dict[str, Any]:
    return {
        "names": got.names,
        "records": got.records,
        "rrsets": got.rrsets,
        "count": got.count,
        "traffic": None if got.time_first is None else (got.time_first, got.time_last),
        "zone": None if got.zone_time_first is None else (got.zone_time_first, got.zone_time_last),
        "types": {t.rrtype: (t.records, t.count, (t.time_first, t.time_last)) for t in got.by_type},
        "seen": {(p.sensor_id, str(p.evidence), p.source): (p.count, Windows.of(p)) for p in got.seen_by},
    }


def check(store: Store) -> None:
    for name in NAMES:
        assert figures(store.name_rollup(name)) == oracle(store, NameMatch("exact", name)), name
    below = store.name_rollup("flux.test", below=True, top=2)
    assert figures(below) == oracle(store, NameMatch("suffix", "flux.test"))
    busiest = sorted((-store.name_rollup(n).count, reverse_name(n), n) for n in NAMES if n.endswith(".flux.test"))
    assert [(n.count, n.rrname) for n in below.top_names] == [(-c, n) for c, _, n in busiest[:2]]


def test_the_rollup_equals_the_records_after_grouped_writes_and_replays(store_factory: StoreFactory) -> None:
    store = store_factory()
    write_all(store, [sightings(seed, 60) for seed in range(8)])
    check(store)
    assert store.name_rollup("nothing.test") == NameRollup(0, 0, 0, 0, None, None, None, None, [], [], [])


def test_name_provenance_is_the_rollups_seen_by(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.write(sightings(1, 80), BatchRef("s", "one"))
    for name in NAMES:
        assert store.name_provenance(name) == store.name_rollup(name).seen_by


def test_migration_0009_fills_the_rollup_from_stored_records(sql_factory: StoreFactory) -> None:
    """0009's two tables, filled from the stored records, become 0010's one table, refilled, then 0011 keeps the
    big names' rows only, refilled: a store written at 0008 (no rollup kept), then at 0009 and 0010 (a writer of
    this code keeps none there), with what a writer of 0010 left (a row of a small name, a journal row), is
    exact after 0011."""
    store = sql_factory(migrate=False)
    store.migrate(through=8)
    write_all(store, [sightings(seed, 50) for seed in range(4)], threads=1)
    assert store.migrate(through=9) == ["0009_name_rollup"]
    write_all(store, [sightings(seed, 50) for seed in range(10, 13)], threads=2, prefix="n")
    assert store.migrate(through=10) == ["0010_rollup_journal"]
    write_all(store, [sightings(seed, 50) for seed in range(20, 22)], threads=2, prefix="m")
    add_rollup_row(store, (reverse_name("small.test"), 1, 1, 1, 1, 5, T0, T0, None, None))
    store.write([obs("small.test", "A", "192.0.2.1", first=T0)], BatchRef("s", "small"))
    add_journal_row(store, rollup.encode_journal({("other.test", 1, 1): [3, T0, T0, None, None]}, {}, {}, []))
    assert store.migrate() == ["0011_rollup_big"]
    check(store)
    assert figures(store.name_rollup("small.test"))["count"] == 1  # from its record, not the row 0010 left
    store.write(sightings(99, 60), BatchRef("s", "after"))  # and the writer carries on from the fill
    check(store)


def test_writes_are_journaled_and_drained_into_the_rollup(sql_factory: StoreFactory) -> None:
    """Deltas wait in the journal (and in memory) until a drain, which a read by this process runs first."""
    store = sql_factory()
    store._applier.rollup_flush_seconds = 3600  # type: ignore[attr-defined]  # no timed drain in this test
    write_all(store, [sightings(seed, 50) for seed in range(4)], threads=2)
    assert journal_rows(store) > 0
    check(store)
    assert journal_rows(store) == 0


def test_the_prune_keeps_the_rollup_exact(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.write(sightings(5, 120, base=T0), BatchRef("s", "old"))
    store.write(sightings(6, 60, base=T0 + 20_000), BatchRef("s", "new"))
    assert isinstance(store, Prunable)
    report = store.prune(RetentionPolicy(records_before=T0 + 20_000))
    assert report.records > 0
    check(store)


def test_every_backend_answers_name_rollup(store: Store) -> None:
    """Every backend's rollup agrees with the records on a small store, exactly."""
    store.write(sightings(3, 60), BatchRef("s", "one"))
    got = store.name_rollup("flux.test", below=True)
    want = oracle(store, NameMatch("suffix", "flux.test"))
    assert (got.names, got.records, got.count, got.exact) == (want["names"], want["records"], want["count"], True)
    assert {p.sensor_id for p in store.name_rollup("a.flux.test").seen_by} <= {"s1", "s2", "imp"}


def test_a_large_zones_figures_are_kept_a_while(sql_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Zones of ``ZONE_CACHE_MIN_NAMES`` names or more are read once per ``ZONE_CACHE_SECONDS``; smaller ones
    (and single names) always from the table."""
    monkeypatch.setattr(rollup, "ZONE_CACHE_MIN_NAMES", 3)
    store = sql_factory()
    store.write(sightings(1, 80), BatchRef("s", "one"))
    before = store.name_rollup("flux.test", below=True)
    assert before.names == 3
    store.write(sightings(2, 80), BatchRef("s", "two"))
    assert store.name_rollup("flux.test", below=True) == before  # kept
    assert store.name_rollup("other.test", below=True).names == 0  # not kept (too small): read
    monkeypatch.setattr(rollup, "ZONE_CACHE_SECONDS", 0.0)
    check(store)  # read again: exact


def test_a_failed_drain_loses_nothing(sql_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A drain that rolls back leaves the journal rows (the memory is gone): the next drain decodes them."""
    store = sql_factory()
    store._applier.rollup_flush_seconds = 3600  # type: ignore[attr-defined]
    write_all(store, [sightings(seed, 50) for seed in range(4)], threads=2)
    real = rollup.table_rows
    calls = []

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("drain fails once")
        return real(*args)

    monkeypatch.setattr(rollup, "table_rows", failing)
    with pytest.raises(RuntimeError):
        store.flush_rollup()  # type: ignore[attr-defined]
    assert journal_rows(store) > 0
    check(store)
    assert len(calls) == 2 and journal_rows(store) == 0


def zone_sightings(seed: int, n: int) -> list[Observation]:
    """``n`` observations over 40 names below ``z.test`` (and a few beside it): four types, five provenances,
    zone-file and zone-only sightings, counts of 2^40, answers without records."""
    rnd = random.Random(seed)
    provs = (*PROVS, ("s3", Evidence.DIRECT, "zeek"), ("s1", Evidence.IMPORTED, "zeek"))
    out = []
    for _ in range(n):
        name = rnd.choice((f"n{rnd.randrange(40)}.z.test", "z.test", f"x{rnd.randrange(3)}.y.test"))
        sensor, evidence, source = rnd.choice(provs)
        first = T0 + rnd.randrange(0, 10_000)
        kind = rnd.random()
        common: dict[str, Any] = {"first": first, "last": first + rnd.randrange(0, 500), "sensor": sensor,
                                  "evidence": evidence, "source": source,
                                  "count": MAX_COUNT if kind > 0.97 else rnd.randrange(1, 9)}
        if kind < 0.05:
            out.append(obs(name, "AAAA", **common))  # an answer without records: an RRset only
        elif kind < 0.2:
            zone = (first - rnd.randrange(0, 3000), first + rnd.randrange(0, 3000))
            out.append(obs(name, "A", f"198.51.100.{rnd.randrange(1, 6)}", zone=zone, traffic=kind < 0.12, **common))
        else:
            rrtype, rdata = rnd.choice((("A", f"192.0.2.{rnd.randrange(1, 9)}"), ("TXT", f'"v{rnd.randrange(4)}"'),
                                        ("MX", f"10 mx{rnd.randrange(3)}.z.test."),
                                        ("AAAA", f"2001:db8::{rnd.randrange(1, 9)}")))
            out.append(obs(name, rrtype, rdata, **common))
    return out


def add_journal_row(store: Store, blob: bytes) -> None:
    """Insert a ``rollup_journal`` row as a writer would."""
    _insert(store, "INSERT INTO rollup_journal (deltas) VALUES (?)", (blob,))


def _insert(store: Store, sql: str, row: tuple[Any, ...]) -> None:
    if store.name == "sqlite":
        with sqlite3.connect(store.path) as conn:  # type: ignore[attr-defined]
            conn.execute(sql, row)
        return
    with store._pool.connection() as conn:  # type: ignore[attr-defined]
        conn.execute(sql.replace("?", "%s"), row)


def add_rollup_row(store: Store, row: tuple[Any, ...]) -> None:
    """Insert a ``name_rollup`` row as the writer would (prov 0: RRsets without records, which the writer
    keeps where a transaction inserted RRsets of a name and type but no sighting of them)."""
    _insert(store, f"INSERT INTO name_rollup VALUES ({', '.join(['?'] * len(row))})", row)


@pytest.mark.parametrize(("seed", "big_records"), [(1, 1), (2, 1), (3, 1), (4, rollup.BIG_RECORDS)])
def test_the_merged_read_equals_the_four_pass_read(sql_factory: StoreFactory, seed: int, big_records: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The merged read (PostgreSQL: types and provenances in one group, folded in Python; the name count by a
    streamed group) gives the figures the former four passes gave (``rollup_reference``), for a zone and single
    names, on random data: every name big (rollup rows only, with an RRsets-only row), or most of them small
    (read from their records: a zone in one statement on both backends, ``zone_source``)."""
    monkeypatch.setattr(rollup, "BIG_RECORDS", big_records)
    store = sql_factory()
    write_all(store, [zone_sightings(seed * 100 + i, 120) for i in range(4)], threads=2)
    store._rollup_current()  # type: ignore[attr-defined]
    if big_records == 1:
        add_rollup_row(store, (reverse_name("n1.z.test"), 99, 0, 0, 2, 0, None, None, None, None))  # RRsets only
    read = store._name_rollup  # type: ignore[attr-defined]  # uncached
    for top in (0, 3, 50):
        assert read("z.test", True, top, True) == four_pass_rollup(store, "z.test", True, top)
    for name in ("z.test", "n1.z.test", "n2.z.test", "x1.y.test", "none.z.test"):
        assert read(name, False, 10, True) == four_pass_rollup(store, name, False)
    unseen = read("z.test", True, 5, False)
    assert unseen.seen_by == [] and unseen == replace(four_pass_rollup(store, "z.test", True, 5), seen_by=[])
    whole = read("z.test", True, 5, True)
    assert whole.rrsets > whole.records - whole.names and len(whole.seen_by) == 5 and whole.count > MAX_COUNT


def test_a_zone_is_read_from_its_records_not_their_sightings(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zone's small names are read from ``rr`` (a record's own sum and windows), not per sighting from
    ``rr_seen``, unless "Seen by" is asked for (the zone page does not ask); the figures stay the former read's."""
    from yapdns.storage.sqlite.store import SqliteStore

    monkeypatch.setattr(rollup, "BIG_RECORDS", 4)  # some names big, most small
    store = SqliteStore(tmp_path / "store.sqlite3", cache_mb=16)
    store.migrate()
    write_all(store, [zone_sightings(7 * 100 + i, 150) for i in range(3)], threads=1)
    store._rollup_current()
    conn = store._reader()
    read: set[str] = set()

    def tables(action: int, table: str | None, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and table:
            read.add(table)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(tables)
    try:
        unseen = store._name_rollup("z.test", True, 5, False)
        assert read == {"name_rollup", "rr", "rrset"}
        read.clear()
        seen = store._name_rollup("z.test", True, 5, True)
        assert read == {"name_rollup", "rr", "rrset", "rr_seen", "prov"}
    finally:
        conn.set_authorizer(None)
    want = four_pass_rollup(store, "z.test", True, 5)
    assert seen == want and unseen == replace(want, seen_by=[]) and rolled_big_crossed(store)[0]


def rolled_big_crossed(store: Store) -> tuple[set[str], set[str], set[str]]:
    """Names with rollup rows, names in ``rollup_big``, names with ``BIG_RECORDS`` records or more."""
    rows = store._rows  # type: ignore[attr-defined]
    rolled = {rev for (rev,) in rows("SELECT DISTINCT rrname_rev FROM name_rollup")}
    big = {rev for (rev,) in rows("SELECT rrname_rev FROM rollup_big")}
    crossed = {rev for (rev,) in rows("SELECT rrname_rev FROM rr GROUP BY rrname_rev HAVING count(*) >= "
                                      f"{int(rollup.BIG_RECORDS)}")}
    return rolled, big, crossed


def test_only_big_names_keep_rollup_rows(sql_factory: StoreFactory) -> None:
    """A name with fewer than ``BIG_RECORDS`` records keeps no rows (its figures come from its records); one that
    crosses the threshold is promoted by the next drain, its rows filled from its records, and stays exact."""
    store = sql_factory()
    for i in range(rollup.BIG_RECORDS + 3):
        store.write([obs("grow.test", "A", f"192.0.2.{i + 1}", first=T0 + i, sensor=f"s{i % 3}"),
                     obs("small.test", "A", "192.0.2.1", first=T0 + i, sensor=f"s{i % 2}")], BatchRef("s", f"g{i}"))
        store.flush_rollup()  # type: ignore[attr-defined]
        rolled, big, crossed = rolled_big_crossed(store)
        assert rolled <= big and crossed <= big
        assert (reverse_name("grow.test") in rolled) == (i + 1 >= rollup.BIG_RECORDS)
        for name in ("grow.test", "small.test"):
            assert figures(store.name_rollup(name)) == oracle(store, NameMatch("exact", name)), (i, name)
    assert reverse_name("small.test") not in big
    assert figures(store.name_rollup("test", below=True)) == oracle(store, NameMatch("suffix", "test"))


def test_two_writers_promote_names_and_stay_exact(sql_factory: StoreFactory) -> None:
    """Two writers on one database (two server processes) write the same names at once while the names cross
    the threshold: whichever promotes a name, the other's deltas for it are neither lost nor counted twice."""
    one, two = sql_factory(), sql_factory()
    batches = [sightings(seed, 40) for seed in range(10)]

    def flush_now_and_then(store: Store, i: int) -> None:
        if i % 3 == 0:
            store.flush_rollup()  # type: ignore[attr-defined]

    write_at_once([one, two, one, two], batches, "w", flush_now_and_then)
    for store in (one, two):
        store.flush_rollup()  # type: ignore[attr-defined]
    rolled, big, crossed = rolled_big_crossed(one)
    assert rolled <= big and crossed <= big and len(big) >= 3
    check(one)
    check(two)


@pytest.mark.clickhouse
@pytest.mark.parametrize("backend", ["clickhouse", "chdb"])
def test_clickhouse_answers_what_sqlite_answers(request: pytest.FixtureRequest, tmp_path: Any, backend: str) -> None:
    """The same batches (zone-file and zone-only sightings, RRsets without records, counts of 2^40, five
    provenances, a replay) give the same rollups on ClickHouse (read from ``entry``) and SQLite (its table)."""
    import uuid

    from tests.storage.conftest import clickhouse_url, drop_clickhouse_database
    from yapdns.storage.clickhouse.store import ClickHouseStore
    from yapdns.storage.sqlite.store import SqliteStore

    url = clickhouse_url(request, backend, f"rollup_{uuid.uuid4().hex[:10]}")
    stores: list[Store] = [SqliteStore(tmp_path / "store.sqlite3", cache_mb=16), ClickHouseStore(url)]
    try:
        for store in stores:
            store.migrate()
            write_all(store, [zone_sightings(700 + i, 150) for i in range(4)], threads=2)
        sqlite, clickhouse = stores
        for top in (0, 3, 50):
            assert clickhouse.name_rollup("z.test", below=True, top=top) == sqlite.name_rollup("z.test", below=True,
                                                                                              top=top)  # fmt: skip
        for name in ("z.test", "n1.z.test", "n2.z.test", "x1.y.test", "none.z.test"):
            assert clickhouse.name_rollup(name) == sqlite.name_rollup(name), name
            assert clickhouse.name_rollup(name, seen_by=False) == sqlite.name_rollup(name, seen_by=False), name
    finally:
        for store in stores:
            store.close()
        drop_clickhouse_database(url)
