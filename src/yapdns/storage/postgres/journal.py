"""The per-name rollup's journal on PostgreSQL (``rollup.JournalDb``; migration 0010).

Several server processes may drain at once: ``seqs`` locks every committed row (``FOR UPDATE``), so a second
drain waits for the first and then no longer sees the rows it deleted; the upserts go in key order, so two
drains never deadlock. Every drain takes its table lock (``ROW EXCLUSIVE``, which its DELETE needs anyway)
before any row lock, as the prune does, so a drain and a prune wait for each other in one order. ``lock``
(the prune) takes ``SHARE`` on the journal: groups of other processes that have not written their journal row
yet (it is their last statement) wait until the prune commits, so none of them is both in the records the
prune reads and still to be applied from the journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from yapdns.core.normalize import COUNT_CEILING
from yapdns.storage import rollup
from yapdns.storage.migrations import ConnectionDb
from yapdns.storage.rollup import rebuild_names, upsert_sql

ROLLUP_UPSERT = upsert_sql("postgresql", "stage_rollup")
STAGE = (  # made with the writer's other staging tables (postgres/writer.py)
    'CREATE TEMP TABLE IF NOT EXISTS stage_rollup (rrname_rev text COLLATE "C", rrtype integer, prov integer, '
    "records bigint, rrsets bigint, n bigint, tf bigint, tl bigint, ztf bigint, ztl bigint) ON COMMIT DELETE ROWS"
)
COUNT_SUM = f"CAST(CASE WHEN sum({{0}}) > {COUNT_CEILING} THEN {COUNT_CEILING} ELSE sum({{0}}) END AS BIGINT)"
_TYPES = ["text", "int4", "int4", "int8", "int8", "int8", "int8", "int8", "int8", "int8"]


class PgJournal:
    """``JournalDb`` over a writer's connection, inside its transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def lock(self) -> None:
        self._conn.execute("LOCK TABLE rollup_big IN EXCLUSIVE MODE")  # first: one promotion or prune at a time
        self._conn.execute("LOCK TABLE rollup_journal IN SHARE MODE")

    def seqs(self) -> list[int]:
        self._conn.execute("LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE")  # table lock first: as the prune
        return [seq for (seq,) in self._conn.execute("SELECT seq FROM rollup_journal ORDER BY seq FOR UPDATE")]

    def blobs(self, seqs: list[int]) -> list[bytes]:
        rows = self._conn.execute("SELECT deltas FROM rollup_journal WHERE seq = ANY(%s)", (seqs,))
        return [bytes(blob) for (blob,) in rows]

    def delete(self, seqs: list[int]) -> None:
        self._conn.execute("DELETE FROM rollup_journal WHERE seq = ANY(%s)", (seqs,))

    def upsert(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._conn.execute("DELETE FROM stage_rollup")  # ON COMMIT DELETE ROWS; twice in one transaction too
            _copy(self._conn, rows)
            self._conn.execute(ROLLUP_UPSERT)

    def crossed(self, revs: list[str]) -> list[str]:
        found = self._conn.execute(
            'SELECT n FROM unnest(%s::text[]) AS n WHERE NOT EXISTS (SELECT 1 FROM rollup_big b WHERE b.rrname_rev = '
            'n COLLATE "C") AND (SELECT count(*) FROM (SELECT 1 FROM rr WHERE rrname_rev = n COLLATE "C" LIMIT %s) '
            "x) >= %s",
            (revs, rollup.BIG_RECORDS, rollup.BIG_RECORDS),
        )
        return [rev for (rev,) in found]

    def promote(self, revs: list[str]) -> None:
        self._conn.execute("INSERT INTO rollup_big (rrname_rev) SELECT * FROM unnest(%s::text[]) ORDER BY 1 "
                           "ON CONFLICT DO NOTHING", (revs,))
        rebuild_names(ConnectionDb(self._conn, "%s"), revs, COUNT_SUM)

    def big_since(self, seq: int) -> list[tuple[int, str]]:
        """The ``rollup_big`` rows after ``seq``: read after the group took its lock on the journal, so every
        promotion either committed before (and is seen here) or waits for this group (its records are not in the
        promotion's rebuild)."""
        self._conn.execute("LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE")
        return list(self._conn.execute("SELECT seq, rrname_rev FROM rollup_big WHERE seq > %s", (seq,)))

    def append(self, blob: bytes) -> int:
        """Journal one group's deltas; return the row's id."""
        row = self._conn.execute("INSERT INTO rollup_journal (deltas) VALUES (%s) RETURNING seq", (blob,)).fetchone()
        assert row is not None
        return int(row[0])


def _copy(conn: psycopg.Connection[Any], rows: Iterable[Sequence[Any]]) -> None:
    with conn.cursor() as cur, cur.copy("COPY stage_rollup FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_TYPES)
        for row in rows:
            copy.write_row(row)
