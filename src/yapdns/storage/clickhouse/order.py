"""Reads in storage order on ClickHouse: ``discoveries``, ``first_under``, ``readdressed`` and ``address_feed``.

They walk ``seq_log`` (``sequence.py``) from a sequence number, a primary-key range, and keep each row that is
its record's first (its ``seq`` equals the record's smallest, from ``seq_first``) or its name's first. A
"record scanned" is a ``seq_log`` row: a record written again counts again, so ``scan`` bounds the work, not
the number of new records.

Guarantee (docs/storage.md, "Storage order"): with one writing process, a reader resuming from the sequence
number it reached sees every name (record, address) once, with no gap: numbers are given after a write's
commit part, in the order the process applied its writes. With several writing processes each numbers its
writes from its own clock, so a write numbered just before another process's write can become visible just
after it; a reader that passed the later number would not see the earlier write's names. ``?seq_settle=S``
in the store URL makes readers stop S seconds short of now, which closes that window whenever inserts take
less than S seconds and the writers' clocks agree within it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from yapdns.core.names import reverse_name, unreverse_name
from yapdns.core.rrtypes import AAAA, CNAME, A
from yapdns.storage.base import Discovery, DiscoveryPage
from yapdns.storage.clickhouse.schema import SEQ_MARKER, SEQ_SHIFT, Kind
from yapdns.storage.clickhouse.select import FIRST, LAST
from yapdns.storage.context import AddressPage, _cursor_id

Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]
Row = tuple[int, str, int, str]  # a seq_log row: seq, rrname_rev, rrtype, rdata
ADDRESS_TYPES = (A, AAAA)
REPOINT_TYPES = (A, AAAA, CNAME)  # a name's new address or new CNAME target
ORPHAN_AFTER = 60.0  # seconds: a log row whose record seq_first never got (a crash between the two) is skipped


def _settled(window: list[Row], known: Callable[[Row], bool]) -> list[Row]:
    """``window`` up to the first row ``seq_first`` does not know yet: its write's view insert is still landing
    (``seq_log`` first, then the view into ``seq_first``), so the reader stops there and comes back for it."""
    young = (int(time.time() * 1000) - int(ORPHAN_AFTER * 1000)) << SEQ_SHIFT
    for i, row in enumerate(window):
        if not known(row) and row[0] > young:
            return window[:i]
    return window


class OrderReader:
    """Storage-order reads over ``seq_log`` (on ``seq_rows``, the first shard) and ``entry`` (on ``rows``)."""

    def __init__(self, seq_rows: Rows, rows: Rows, db: str, settle: float = 0.0) -> None:
        self._seq_rows, self._rows, self._db, self._settle = seq_rows, rows, db, settle

    def _window(self, after: int, scan: int, types: Sequence[int] = ()) -> list[Row]:
        """The next ``scan`` log rows after ``after``: ``(seq, rrname_rev, rrtype, rdata)``."""
        clauses = [f"seq > %(after)s AND rrtype != {SEQ_MARKER}"]
        if types:
            clauses.append(f"rrtype IN {tuple(int(t) for t in types)}")
        if self._settle > 0:
            clauses.append(f"seq <= {int((time.time() - self._settle) * 1000) << SEQ_SHIFT}")
        found = self._seq_rows(
            f"SELECT seq, rrname_rev, rrtype, rdata FROM {self._db}.seq_log WHERE {' AND '.join(clauses)} "
            "ORDER BY seq LIMIT %(scan)s",
            {"after": int(after), "scan": int(scan)},
        )
        return [(int(s), str(n), int(t), str(r)) for s, n, t, r in found]

    def _first_of_records(self, window: list[Row]) -> tuple[list[Row], int | None]:
        """The rows of ``window`` that are their record's first, and the last seq settled (None: all of it)."""
        if not window:
            return [], None
        keys = tuple(dict.fromkeys((n, t, r) for _, n, t, r in window))
        firsts = self._seq_rows(
            f"SELECT rrname_rev, rrtype, rdata, minMerge(seq) FROM {self._db}.seq_first "
            "WHERE (rrname_rev, rrtype, rdata) IN %(keys)s GROUP BY rrname_rev, rrtype, rdata",
            {"keys": keys},
        )
        first = {(str(n), int(t), str(r)): int(s) for n, t, r, s in firsts}
        settled = _settled(window, lambda row: row[1:] in first)
        last = None if len(settled) == len(window) else (settled[-1][0] if settled else -1)
        return [row for row in settled if first.get(row[1:]) == row[0]], last

    def discoveries(self, after: int, scan: int, within: str | None) -> DiscoveryPage:
        window = self._window(after, scan)
        if not window:
            return DiscoveryPage([], after)
        names = tuple(dict.fromkeys(n for _, n, _, _ in window))
        firsts: dict[str, int] = dict(
            self._seq_rows(
                f"SELECT rrname_rev, minMerge(seq) FROM {self._db}.seq_first WHERE rrname_rev IN %(names)s "
                f"AND rrtype != {SEQ_MARKER} GROUP BY rrname_rev",
                {"names": names},
            )
        )
        window = _settled(window, lambda row: row[1] in firsts)
        if not window:
            return DiscoveryPage([], after)
        rev = reverse_name(within) if within else None
        found = [
            (seq, name) for seq, name, _, _ in window
            if int(firsts.get(name, -1)) == seq and (rev is None or name.startswith(rev))
        ]  # fmt: skip
        totals = self._totals([name for _, name in found])
        rows = [Discovery(seq, unreverse_name(name), *totals[name]) for seq, name in found if name in totals]
        return DiscoveryPage(rows, window[-1][0])

    def _totals(self, names: list[str]) -> dict[str, tuple[int, int, int]]:
        """``(first seen, last seen, records)`` of each name, over its per-RR records."""
        if not names:
            return {}
        found = self._rows(
            f"SELECT rrname_rev, min(first), max(last), count() FROM (SELECT rrname_rev, {FIRST} AS first, "
            f"{LAST} AS last FROM {self._db}.entry WHERE kind = {int(Kind.RR)} AND rrname_rev IN %(names)s "
            "GROUP BY rrname_rev, rrtype, k1) GROUP BY rrname_rev",
            {"names": tuple(names)},
        )
        return {str(n): (int(f), int(la), int(c)) for n, f, la, c in found}

    def first_under(self, name: str, seq: int) -> bool:
        rev = reverse_name(name)
        found = self._seq_rows(
            f"SELECT 1 FROM {self._db}.seq_first WHERE rrname_rev >= %(lo)s AND rrname_rev < %(hi)s "
            f"AND rrtype != {SEQ_MARKER} GROUP BY rrname_rev, rrtype, rdata HAVING minMerge(seq) < %(seq)s LIMIT 1",
            {"lo": rev, "hi": rev[:-1] + "/", "seq": int(seq)},
        )
        return not found

    def readdressed(self, after: int, scan: int) -> tuple[list[str], int]:
        window = self._window(after, scan)
        if not window:
            return [], after
        new, last = self._first_of_records([row for row in window if row[2] in REPOINT_TYPES])
        reached = window[-1][0] if last is None else (after if last < 0 else last)
        return list(dict.fromkeys(unreverse_name(name) for _, name, _, _ in new)), reached

    def address_feed(self, cursor: str | None, limit: int) -> AddressPage:
        window = self._window(_cursor_id(cursor), limit, ADDRESS_TYPES)
        if not window:
            return AddressPage([], None)
        new, last = self._first_of_records(window)
        if last is not None and last < 0:
            return AddressPage([], None)  # the next address is still landing
        reached = window[-1][0] if last is None else last
        return AddressPage(list(dict.fromkeys(rdata for _, _, _, rdata in new)), str(reached))
