"""Migration ``0004_unbroken_rdata``: rewrite rdata stored with dnspython's chunked binary fields.

Before this migration the canonical form of DNSKEY, RRSIG, DS, TLSA and the
other types with base64 or hex fields had those fields broken into
space-separated chunks (``core/rdata.py`` now keeps them unbroken). This
step re-normalizes the ``rr`` and ``rrset`` rows of those types, and of
RFC 3597 ``\\# `` rdata, walking each table in id order, ``CHUNK`` rows at a
time (a full scan with a cheap filter; Python sees only the candidates):

* a row whose canonical rdata no other row holds is rewritten in place: its
  id, and so its provenance (``rr_seen``) and sample links (``rr_sample``),
  stay;
* a row whose canonical rdata another row already holds (written unbroken by
  a newer server before the migration ran) is merged into it as the writers
  would have folded them (``aggregate.merge``: windows by
  ``core.windows.combine``, counts summed, TTL range widened); provenance and
  sample rows move over, merged per provenance and per sample. The row with
  the smaller id is deleted and the larger kept, so SQLite never hands a
  deleted id out again; the record (or RRset) counter and the per-type count
  drop by one.

Rows whose rdata does not parse are left as they are. Run it with the
servers stopped: a running server's writer remembers row ids and would keep
writing the old form until upgraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from yapdns.core.errors import InvalidObservation
from yapdns.core.normalize import normalize_rrset
from yapdns.core.rrtypes import rrtype_code
from yapdns.storage.aggregate import Stats, merge

if TYPE_CHECKING:
    from yapdns.storage.migrations import MigrationDb

CHUNK = 1000
GENERIC = "\\# "  # RFC 3597 rdata of types dnspython does not know
BINARY_TYPES = tuple(
    sorted(
        rrtype_code(name)
        for name in (
            "KEY", "SIG", "DS", "CDS", "DLV", "DNSKEY", "CDNSKEY", "RRSIG", "NSEC3", "NSEC3PARAM", "TLSA",
            "SMIMEA", "SSHFP", "OPENPGPKEY", "CERT", "IPSECKEY", "DHCID", "ZONEMD", "HIP", "TKEY", "TSIG",
        )
    )
)
_STATS = "time_first, time_last, count, ttl_min, ttl_max, zone_time_first, zone_time_last, zone_only"
_SET_STATS = ", ".join(f"{c} = ?" for c in _STATS.split(", "))


def rewrite_unbroken_rdata(db: MigrationDb) -> None:
    """The migration step (see module doc)."""
    for row_id, rev, code, rdata in _candidates(db, "rr", "rrname_rev"):
        new = _canonical(code, rdata)
        if new is not None:
            _rewrite(db, "rr", row_id, new, "rrname_rev = ? AND rrtype = ? AND rdata = ?", (rev, code, new))
    for row_id, rev, bailiwick, code, rdata in _candidates(db, "rrset", "rrname_rev, bailiwick"):
        new = _canonical(code, rdata)
        if new is not None:
            key = "rrname_rev = ? AND rrtype = ? AND bailiwick = ? AND rdata = ?"
            _rewrite(db, "rrset", row_id, new, key, (rev, code, bailiwick, new))


def _candidates(db: MigrationDb, table: str, key: str) -> Iterator[tuple[Any, ...]]:
    """``(id, *key, rrtype, rdata)`` of every row of ``table`` whose rdata may hold a chunked field."""
    marks = ", ".join("?" * len(BINARY_TYPES))
    last = 0
    while True:
        found = db.rows(
            f"SELECT id, {key}, rrtype, rdata FROM {table} WHERE id > ? "
            f"AND (rrtype IN ({marks}) OR substr(rdata, 1, 3) = ?) ORDER BY id LIMIT {CHUNK}",
            (last, *BINARY_TYPES, GENERIC),
        )
        yield from found
        if len(found) < CHUNK:
            return
        last = found[-1][0]


def _canonical(code: int, rdata: str) -> str | None:
    """The canonical form of stored rdata (one RR, or an RRset joined by newlines); None if unchanged or invalid."""
    try:
        new = "\n".join(normalize_rrset(code, tuple(rdata.split("\n"))))
    except InvalidObservation:
        return None
    return None if new == rdata else new


def _rewrite(db: MigrationDb, table: str, row_id: int, new: str, key: str, params: tuple[object, ...]) -> None:
    found = db.rows(f"SELECT id FROM {table} WHERE {key}", params)
    if not found:
        db.run(f"UPDATE {table} SET rdata = ? WHERE id = ?", (new, row_id))
        return
    keep, drop = max(row_id, found[0][0]), min(row_id, found[0][0])
    _merge_row(db, table, keep, drop)
    if keep == row_id:  # the other row is gone now: the key is free
        db.run(f"UPDATE {table} SET rdata = ? WHERE id = ?", (new, keep))


def _merge_row(db: MigrationDb, table: str, keep: int, drop: int) -> None:
    """Fold row ``drop`` of ``rr`` or ``rrset`` (and what hangs on it) into row ``keep``, then delete it."""
    merged = _stats(db, f"SELECT {_STATS} FROM {table} WHERE id = ?", keep)
    merge({0: merged}, 0, _stats(db, f"SELECT {_STATS} FROM {table} WHERE id = ?", drop))
    db.run(f"UPDATE {table} SET {_SET_STATS} WHERE id = ?", (*merged, keep))
    if table == "rr":
        _move_seen(db, keep, drop)
        _move_samples(db, keep, drop)
        (code,) = db.rows("SELECT rrtype FROM rr WHERE id = ?", (drop,))[0]
        db.run("UPDATE type_count SET records = records - 1 WHERE rrtype = ?", (code,))
    db.run(f"DELETE FROM {table} WHERE id = ?", (drop,))
    db.run("UPDATE counter SET value = value - 1 WHERE name = ?", ("records" if table == "rr" else "rrsets",))


def _stats(db: MigrationDb, sql: str, *params: object) -> Stats:
    row = db.rows(sql, params)[0]
    return [*row[:-1], bool(row[-1])]


def _move_seen(db: MigrationDb, keep: int, drop: int) -> None:
    """Provenance rows of ``drop`` move to ``keep``, folded into the row of the same provenance if any."""
    for (prov,) in db.rows("SELECT prov FROM rr_seen WHERE rr_id = ?", (drop,)):
        seen = (
            "SELECT time_first, time_last, count, NULL, NULL, zone_time_first, zone_time_last, zone_only "
            "FROM rr_seen WHERE rr_id = ? AND prov = ?"
        )
        there = db.rows(seen, (keep, prov))
        if not there:
            db.run("UPDATE rr_seen SET rr_id = ? WHERE rr_id = ? AND prov = ?", (keep, drop, prov))
            continue
        merged = [*there[0][:-1], bool(there[0][-1])]
        merge({0: merged}, 0, _stats(db, seen, drop, prov))
        tf, tl, n, _, _, ztf, ztl, zo = merged
        db.run(
            "UPDATE rr_seen SET time_first = ?, time_last = ?, count = ?, zone_time_first = ?, zone_time_last = ?, "
            "zone_only = ? WHERE rr_id = ? AND prov = ?",
            (tf, tl, n, ztf, ztl, zo, keep, prov),
        )
        db.run("DELETE FROM rr_seen WHERE rr_id = ? AND prov = ?", (drop, prov))


def _move_samples(db: MigrationDb, keep: int, drop: int) -> None:
    """Sample links of ``drop`` move to ``keep``, folded into the link to the same sample run if any."""
    for sha, task, tf, tl, n in db.rows(
        "SELECT sha256, task_id, time_first, time_last, count FROM rr_sample WHERE rr_id = ?", (drop,)
    ):
        there = db.rows(
            "SELECT time_first, time_last, count FROM rr_sample WHERE rr_id = ? AND sha256 = ? AND task_id = ?",
            (keep, sha, task),
        )
        if there:
            merged: Stats = [*there[0], None, None]
            merge({0: merged}, 0, [tf, tl, n, None, None])
            db.run(
                "UPDATE rr_sample SET time_first = ?, time_last = ?, count = ? WHERE rr_id = ? AND sha256 = ? "
                "AND task_id = ?",
                (*merged[:3], keep, sha, task),
            )
            db.run("DELETE FROM rr_sample WHERE rr_id = ? AND sha256 = ? AND task_id = ?", (drop, sha, task))
        else:
            move = "UPDATE rr_sample SET rr_id = ? WHERE rr_id = ? AND sha256 = ? AND task_id = ?"
            db.run(move, (keep, drop, sha, task))
