"""The ``Store`` contract, part 1: what a write guarantees, on every backend.

Aggregation (min/max/sum, ttl range), the per-provenance breakdown, replayed
batch ids, atomicity, concurrent writers, RRsets, negatives, bare queries,
samples, stats, ingest history and migrations. Query shapes and paging are in
``test_contract_queries.py``. Every expected value is worked out by hand from
the observations each test writes.
"""

from __future__ import annotations

import threading
import time

import msgspec
import pytest

from tests.storage.builders import T0, by_ip, by_name, fence, obs, types
from tests.storage.conftest import StoreFactory
from yapdns.core.model import Evidence, Provenance, Record
from yapdns.storage.base import BatchRef, Store, StoreStats, WriteOutcome


def one(store: Store, name: str, rrtype: str = "A") -> Record:
    rows = store.records(by_name(name, types=types(rrtype))).rows
    assert len(rows) == 1, rows
    return rows[0]


def counts(store: Store) -> StoreStats:
    """``stats()`` without the file size, which background checkpoints change at any time."""
    return msgspec.structs.replace(store.stats(), size_bytes=None)


def test_records_aggregate_min_max_sum_and_ttl_range(store: Store) -> None:
    store.write([obs("www.example.com", "A", "192.0.2.1", first=T0 + 10, last=T0 + 20, count=3, ttl=300)])
    store.write(
        [
            obs("WWW.Example.COM.", "A", "192.0.2.1", first=T0, last=T0 + 5, count=2, ttl=60),
            obs("www.example.com", "A", "192.0.2.1", first=T0 + 30, last=T0 + 40, count=5),
        ]
    )
    rec = one(store, "www.example.com")
    assert (rec.rrname, rec.rrtype, rec.rdata) == ("www.example.com", "A", "192.0.2.1")
    assert (rec.time_first, rec.time_last, rec.count) == (T0, T0 + 40, 10)
    assert (rec.ttl_min, rec.ttl_max) == (60, 300)


def test_ttl_stays_unknown_when_never_seen(store: Store) -> None:
    store.write([obs("a.example", "A", "192.0.2.9"), obs("a.example", "A", "192.0.2.9")])
    rec = one(store, "a.example")
    assert (rec.ttl_min, rec.ttl_max, rec.count) == (None, None, 2)


def test_every_member_of_an_rrset_becomes_a_record(store: Store) -> None:
    store.write([obs("multi.example", "A", "192.0.2.2", "192.0.2.1", "192.0.2.1", count=4)])
    rows = store.records(by_name("multi.example")).rows
    assert [(r.rdata, r.count) for r in rows] == [("192.0.2.1", 4), ("192.0.2.2", 4)]


def test_provenance_breakdown(store: Store) -> None:
    store.write(
        [
            obs("p.example", "A", "192.0.2.1", first=T0, last=T0 + 9, count=2, sensor="s1", source="zeek"),
            obs("p.example", "A", "192.0.2.1", first=T0 + 5, count=3, sensor="s2", evidence=Evidence.INDIRECT,
                source="squid"),
        ]
    )
    store.write([obs("p.example", "A", "192.0.2.1", first=T0 - 5, count=1, sensor="s1", source="zeek")])
    assert store.provenance("p.example", "A", "192.0.2.1") == [
        Provenance("s1", Evidence.DIRECT, "zeek", T0 - 5, T0 + 9, 3),
        Provenance("s2", Evidence.INDIRECT, "squid", T0 + 5, T0 + 5, 3),
    ]
    assert one(store, "p.example").count == 6
    assert store.provenance("p.example", "A", "192.0.2.99") == []


def test_sensor_filter_covers_sub_sensors_only(store: Store) -> None:
    store.write(
        [
            obs("f.example", "A", "192.0.2.1", count=1, sensor="s1", first=T0 + 1),
            obs("f.example", "A", "192.0.2.1", count=2, sensor="s1/x", first=T0 + 2),
            obs("f.example", "A", "192.0.2.1", count=4, sensor="s10", first=T0 + 3),
            obs("f.example", "A", "192.0.2.2", count=8, sensor="s10"),
        ]
    )
    s1 = store.records(by_name("f.example", sensor="s1")).rows
    assert [(r.rdata, r.count, r.time_first, r.time_last) for r in s1] == [("192.0.2.1", 3, T0 + 1, T0 + 2)]
    sub = store.records(by_name("f.example", sensor="s1/x")).rows
    assert [(r.rdata, r.count) for r in sub] == [("192.0.2.1", 2)]
    s10 = store.records(by_name("f.example", sensor="s10")).rows
    assert [(r.rdata, r.count) for r in s10] == [("192.0.2.1", 4), ("192.0.2.2", 8)]
    assert store.records(by_name("f.example", sensor="nobody")).rows == []
    assert store.sensors() == ["s1", "s1/x", "s10"]


def test_evidence_filter_and_fences_apply_to_the_filtered_aggregate(store: Store) -> None:
    store.write(
        [
            obs("e.example", "A", "192.0.2.1", first=T0, count=1, evidence=Evidence.DIRECT),
            obs("e.example", "A", "192.0.2.1", first=T0 + 100, count=7, evidence=Evidence.IMPORTED),
        ]
    )
    imported = store.records(by_name("e.example", evidence=Evidence.IMPORTED)).rows
    assert [(r.count, r.time_first) for r in imported] == [(7, T0 + 100)]
    direct_late = by_name("e.example", evidence=Evidence.DIRECT, fence=fence(last_after=T0 + 50))
    assert store.records(direct_late).rows == []
    assert store.records(by_name("e.example", fence=fence(last_after=T0 + 50))).rows[0].count == 8


def test_replayed_batch_is_acknowledged_and_changes_nothing(store: Store) -> None:
    batch = [obs("r.example", "A", "192.0.2.1", count=2), obs("nx.r.example", "A", rcode="NXDOMAIN")]
    first = store.write(batch, BatchRef("s1", "b-1", accepted=2, rejected=1))
    assert first == WriteOutcome(replayed=False, accepted=2, rejected=1)
    counts_before = counts(store)
    again = store.write([*batch, obs("new.r.example", "A", "192.0.2.3")], BatchRef("s1", "b-1", 3, 0))
    assert again == WriteOutcome(replayed=True, accepted=2, rejected=1)
    assert counts(store) == counts_before
    assert one(store, "r.example").count == 2
    assert store.records(by_name("new.r.example")).rows == []
    other_sensor = store.write(batch, BatchRef("s2", "b-1", 2, 0))
    assert not other_sensor.replayed
    assert one(store, "r.example").count == 4


def test_same_batch_id_from_many_threads_and_writers_applies_once(store_factory: StoreFactory) -> None:
    stores = [store_factory(), store_factory()]  # two writers on one database, like two server processes
    outcomes: list[WriteOutcome] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        batch = [obs("once.example", "A", "192.0.2.1", count=5)]
        result = stores[i % 2].write(batch, BatchRef("s1", "dup", 1, 0))
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.replayed for o in outcomes) == [False] + [True] * 7
    assert one(stores[0], "once.example").count == 5
    assert stores[1].stats().batches == 1


def test_a_failing_write_leaves_nothing_and_keeps_its_batch_id_free(store: Store) -> None:
    good = [obs("ok.example", "A", "192.0.2.1"), obs("ok.example", "AAAA", "2001:db8::1")]
    # rr rows are written before negatives; an out-of-range time in a negative fails late in the transaction
    bad = obs("nx.example", "A", rcode="NXDOMAIN")
    bad = bad.__class__(**{**{f: getattr(bad, f) for f in bad.__struct_fields__}, "time_last": 2**70})
    with pytest.raises(Exception):  # noqa: B017 - each engine reports overflow its own way
        store.write([*good, bad], BatchRef("s1", "atomic", 3, 0))
    assert store.records(by_name("ok.example")).rows == []
    assert store.stats().observations == 0
    assert store.write(good, BatchRef("s1", "atomic", 2, 0)) == WriteOutcome(False, 2, 0)
    assert len(store.records(by_name("ok.example")).rows) == 2


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    names = [f"h{i}.conc.example" for i in range(40)]
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for b in range(8):
                batch = [obs(n, "A", "198.51.100.7", first=T0 + w * 100 + b, sensor=f"w{w % 2}") for n in names]
                store.write(batch, BatchRef(f"w{w}", f"b{b}", len(batch), 0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = list(store.iter_records(by_name("*.conc.example", limit=1000)))
    assert len(rows) == 40
    assert {r.count for r in rows} == {32}
    assert {(r.time_first, r.time_last) for r in rows} == {(T0, T0 + 307)}
    stats = store.stats()
    assert (stats.records, stats.observations, stats.batches) == (40, 1280, 32)
    assert store.provenance(names[0], "A", "198.51.100.7")[0].count == 16


def test_rrsets_keep_whole_answers_per_bailiwick(store: Store) -> None:
    store.write(
        [
            obs("rs.example", "NS", "ns2.example.net", "ns1.example.net", bailiwick="example", count=2, ttl=3600),
            obs("rs.example", "NS", "ns1.example.net", "ns2.example.net", bailiwick="example", first=T0 + 9),
            obs("rs.example", "NS", "ns1.example.net", bailiwick="rs.example"),
            obs("rs.example", "NS", "ns1.example.net", "ns2.example.net"),
        ]
    )
    rows = store.rrsets(by_name("rs.example")).rows
    assert [(r.bailiwick, r.rdata, r.count) for r in rows] == [
        (None, ("ns1.example.net", "ns2.example.net"), 1),
        ("example", ("ns1.example.net", "ns2.example.net"), 3),
        ("rs.example", ("ns1.example.net",), 1),
    ]
    assert rows[1].time_last == T0 + 9 and rows[1].ttl_max == 3600
    only = store.rrsets(by_name("rs.example", bailiwick="rs.example")).rows
    assert [r.rdata for r in only] == [("ns1.example.net",)]
    assert [(r.rdata, r.count) for r in store.records(by_name("rs.example")).rows] == [
        ("ns1.example.net", 5),
        ("ns2.example.net", 4),
    ]


def test_negatives_and_bare_queries_are_kept_apart_from_records(store: Store) -> None:
    store.write(
        [
            obs("gone.example", "A", rcode="NXDOMAIN", count=2, sensor="s1"),
            obs("gone.example", "A", rcode=3, first=T0 + 50, sensor="s2"),  # type: ignore[arg-type]
            obs("gone.example", "AAAA", rcode="NOERROR"),
            obs("gone.example", "MX", rcode="SERVFAIL"),
            obs("asked.example", "TXT", count=4),
        ]
    )
    assert store.records(by_name("gone.example")).rows == []
    negs = store.negatives(by_name("gone.example")).rows
    assert [(n.rrtype, n.rcode, n.count, n.time_last) for n in negs] == [
        ("A", "NXDOMAIN", 3, T0 + 50),
        ("MX", "SERVFAIL", 1, T0),
        ("AAAA", "NODATA", 1, T0),
    ]
    assert [n.count for n in store.negatives(by_name("gone.example", sensor="s2")).rows] == [1]
    assert store.negatives(by_name("gone.example", fence=fence(last_after=T0 + 1))).rows[0].rcode == "NXDOMAIN"
    asked = store.queries(by_name("*.example")).rows
    assert [(q.rrname, q.rrtype, q.count) for q in asked] == [("asked.example", "TXT", 4)]
    stats = store.stats()
    assert (stats.negatives, stats.queries, stats.records) == (4, 1, 0)


def test_samples_link_records_to_sandbox_runs(store: Store) -> None:
    sha = "ab" * 32
    store.write(
        [
            obs("c2.example", "A", "203.0.113.5", sample=sha.upper(), sensor="cuckoo", first=T0 + 3),
            obs("c2.example", "A", "203.0.113.5", sample=sha, sensor="cuckoo", first=T0 + 1),
            obs("other.example", "A", "203.0.113.6"),
        ]
    )
    links = store.samples("c2.example", "A", "203.0.113.5")
    assert [(s.sha256, s.task_id, s.time_first, s.time_last, s.count) for s in links] == [
        (sha, None, T0 + 1, T0 + 3, 2)
    ]
    from yapdns.storage.query import RecordQuery

    found = store.records(RecordQuery(sample=sha)).rows
    assert [r.rrname for r in found] == ["c2.example"]
    assert store.samples("other.example", "A", "203.0.113.6") == []


def test_samples_link_negative_answers_and_bare_queries(store: Store) -> None:
    """A DGA sample's NXDOMAIN names and its unanswered questions are findable by its hash, and back."""
    from yapdns.storage.query import RecordQuery

    sha, other = "cd" * 32, "ef" * 32
    store.write(
        [
            obs("x1.dga.example", "A", rcode="NXDOMAIN", sample=sha, sensor="cuckoo", first=T0 + 2),
            obs("x1.dga.example", "A", rcode="NXDOMAIN", sample=sha, sensor="cuckoo", first=T0 + 5),
            obs("x2.dga.example", "A", rcode="NXDOMAIN", sample=sha, sensor="cuckoo", first=T0 + 3),
            obs("x2.dga.example", "A", rcode="NXDOMAIN", sensor="resolver", first=T0 + 9),
            obs("asked.dga.example", "TYPE0", sample=sha, sensor="cuckoo", first=T0 + 4),
            obs("x3.dga.example", "A", rcode="NXDOMAIN", sample=other, sensor="cuckoo", first=T0 + 6),
        ]
    )
    negatives = store.negatives(RecordQuery(sample=sha)).rows
    assert [(n.rrname, n.rcode, n.time_first, n.time_last, n.count) for n in negatives] == [
        ("x1.dga.example", "NXDOMAIN", T0 + 2, T0 + 5, 2),
        ("x2.dga.example", "NXDOMAIN", T0 + 3, T0 + 9, 2),  # the record's totals: the resolver saw it too
    ]
    assert [(q.rrname, q.rrtype) for q in store.queries(RecordQuery(sample=sha)).rows] == [
        ("asked.dga.example", "TYPE0")
    ]
    assert store.negatives(RecordQuery(sample="00" * 32)).rows == []
    links = store.name_samples("x1.dga.example")
    assert [(s.sha256, s.time_first, s.time_last, s.count) for s in links] == [(sha, T0 + 2, T0 + 5, 2)]
    assert [s.sha256 for s in store.name_samples("x3.dga.example")] == [other]


def test_stats_and_ingest_history(store: Store) -> None:
    store.write(
        [obs("a.st.example", "A", "192.0.2.1"), obs("a.st.example", "AAAA", "2001:db8::1", count=3)],
        BatchRef("s1", "x", 2, 0),
    )
    store.write([obs("a.st.example", "A", "192.0.2.1"), obs("b.st.example", "CNAME", "a.st.example")])
    stats = store.stats()
    assert stats.backend == store.name
    assert (stats.records, stats.rrsets, stats.observations, stats.batches) == (3, 3, 6, 1)
    assert stats.records_by_type == {"A": 1, "AAAA": 1, "CNAME": 1}
    assert stats.size_bytes is not None and stats.size_bytes > 0
    now = int(time.time())
    history = store.ingest_history(now - 7200)
    assert sum(b.observations for b in history) == 6
    assert sum(b.new_records for b in history) == 3
    assert {b.sensor for b in history} == {"s1"}
    assert all(b.hour % 3600 == 0 for b in history)
    assert store.ingest_history(now + 7200) == []


def test_migrate_is_idempotent_and_data_survives_reopening(store_factory: StoreFactory) -> None:
    first = store_factory()
    assert first.migrate() == []
    first.write([obs("keep.example", "A", "192.0.2.1")])
    second = store_factory()
    assert second.migrate() == []
    assert one(second, "keep.example").count == 1


def test_ip_queries_see_ipv4_and_ipv6_keys(store: Store) -> None:
    store.write([obs("v6.example", "AAAA", "2001:DB8:0:0::1"), obs("v4.example", "A", "192.0.2.1")])
    assert [r.rdata for r in store.records(by_ip("2001:db8::1")).rows] == ["2001:db8::1"]
    assert [r.rdata for r in store.records(by_ip("::ffff:192.0.2.1")).rows] == ["192.0.2.1"]
