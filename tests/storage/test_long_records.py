"""Records longer than a B-tree entry holds are stored and found exactly, on every backend.

The answers are real: bind9 serving ``tests/fixtures/long_records/lab.example.zone`` over TCP (``generate.sh``
there): the DKIM record of a 16384-bit RSA key (one TXT RR of ~2,800 bytes), a TXT RR of ~59,000 bytes (near
the 65,535-byte rdata limit) and an RRset of 354 A records. PostgreSQL's unique keys index a digest of the
rdata (migration 0005), SQLite's the rdata itself; both must give back exactly what was written.
"""

from __future__ import annotations

import struct
from pathlib import Path

import dns.message
import dns.rdatatype
import pytest

from tests.storage.builders import by_name, obs
from yapdns.core.errors import InvalidRdata
from yapdns.core.model import Observation
from yapdns.core.normalize import MAX_RRSET_CHARS
from yapdns.storage.base import BatchRef, Store
from yapdns.storage.query import RecordQuery, TypeFilter

RESPONSES = Path(__file__).parents[1] / "fixtures" / "long_records" / "responses.bin"


def _answers() -> list[Observation]:
    """One observation per answer RRset of the captured responses (TCP framing: 2-byte length, message)."""
    data, found, off = RESPONSES.read_bytes(), [], 0
    while off < len(data):
        (size,) = struct.unpack_from("!H", data, off)
        message = dns.message.from_wire(data[off + 2 : off + 2 + size])
        off += 2 + size
        for rrset in message.answer:
            texts = [rd.to_text() for rd in rrset]
            found.append(obs(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), *texts, bailiwick="lab.example"))
    return found


@pytest.fixture(scope="module")
def answers() -> list[Observation]:
    return _answers()


def test_the_fixture_holds_what_no_btree_entry_can(answers: list[Observation]) -> None:
    sizes = {o.rrname: (len(o.rdata), max(len(r) for r in o.rdata), len("\n".join(o.rdata))) for o in answers}
    assert sizes["sel16k._domainkey.lab.example"][1] > 2704
    assert 50_000 < sizes["certs.lab.example"][1] < 65_535
    assert sizes["pool.lab.example"][0] == 354 and sizes["pool.lab.example"][2] > 2704


def test_long_records_and_large_rrsets_are_stored_and_found_exactly(store: Store, answers: list[Observation]) -> None:
    store.write(answers, BatchRef("s1", "long-1"))
    store.write(answers, BatchRef("s1", "long-2"))  # the second write folds into the same rows
    for o in answers:
        records = store.records(by_name(o.rrname, limit=1000)).rows
        assert sorted(r.rdata for r in records) == sorted(o.rdata)
        assert {r.count for r in records} == {2}
        rrsets = store.rrsets(by_name(o.rrname)).rows
        assert [(s.rdata, s.bailiwick, s.count) for s in rrsets] == [(o.rdata, "lab.example", 2)]
    for o in answers[:2]:  # the long TXT RRs: by exact rdata, and their provenance
        (rdata,) = o.rdata
        found = store.records(RecordQuery(rdata=rdata, types=TypeFilter(codes=frozenset({16})))).rows
        assert [(r.rrname, r.rdata) for r in found] == [(o.rrname, rdata)]
        assert [p.count for p in store.provenance(o.rrname, "TXT", rdata)] == [2]


def test_records_differing_only_past_a_long_common_prefix_stay_apart(store: Store, answers: list[Observation]) -> None:
    long_txt = answers[1].rdata[0]
    twin = long_txt[:-2] + ('A"' if long_txt[-2] != "A" else 'B"')
    store.write([answers[1], obs(answers[1].rrname, "TXT", twin)], BatchRef("s1", "twins"))
    rows = store.records(by_name(answers[1].rrname, limit=10)).rows
    assert sorted(r.rdata for r in rows) == sorted([long_txt, twin])


def test_an_rrset_longer_than_any_dns_message_is_that_records_reject() -> None:
    txt = '"' + "a" * 250 + '"'
    many = [f'"{i:05d}" ' + " ".join([txt] * 4) for i in range(MAX_RRSET_CHARS // 1000 + 1)]
    with pytest.raises(InvalidRdata, match="more than a DNS message can carry"):
        obs("x.example.com", "TXT", *many)
