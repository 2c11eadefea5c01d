"""Answering one CIRCL query: what ``q`` means, which records, which page.

``q`` is an IP, a CIDR (``192.0.2.0/24``) or a range: the A/AAAA records
whose address falls in it. Otherwise it is a name (wildcards allowed):
the records it owns (forward), then the records that point at it (CNAME,
NS, PTR, DNAME targets, MX exchanges, SRV targets; inverse), each RR once.

Paging (``dribble-paginate-count``) walks those two phases with the store's
keyset cursors, so a page boundary is stable under concurrent inserts. The
position is sent as ``x-dribble-cursor``: a positive integer whose bytes are
the phase and the store cursor, absent on the last page.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import msgspec

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Record
from yapdns.core.names import reverse_name
from yapdns.storage.base import Store
from yapdns.storage.query import IpRange, NameMatch, Page, RecordQuery, TypeFilter, looks_like_ip_query

FORWARD, INVERSE = 1, 2
_CURSOR = re.compile(r"[0-9]{1,4000}")


class Position(msgspec.Struct, frozen=True):
    """Where a page starts: a phase and the store's cursor within it (None = the phase's start)."""

    phase: int = FORWARD
    cursor: str | None = None

    def to_int(self) -> int:
        raw = base64.urlsafe_b64decode(self.cursor + "=" * (-len(self.cursor) % 4)) if self.cursor else b""
        return int.from_bytes(bytes([self.phase]) + raw, "big")

    @classmethod
    def from_int(cls, value: str) -> Position:
        """Read a ``dribble-paginate-cursor``; the store cursor inside is checked when it is used."""
        text = value.strip()
        if not _CURSOR.fullmatch(text):  # ASCII digits, and short enough for int() (4300 digits at most)
            raise InvalidQuery("dribble-paginate-cursor must be a cursor this server sent")
        number = int(text)
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        if number <= 0 or raw[0] not in (FORWARD, INVERSE):
            raise InvalidQuery("dribble-paginate-cursor must be a cursor this server sent")
        cursor = base64.urlsafe_b64encode(raw[1:]).decode().rstrip("=") or None
        return cls(raw[0], cursor)


class CirclQuery:
    """The record queries behind one ``q`` and an rrtype filter."""

    def __init__(self, q: str, types: TypeFilter) -> None:
        self.types = types
        self.name: NameMatch | None = None
        self.ip: IpRange | None = None
        if looks_like_ip_query(q):
            self.ip = IpRange.parse(q)
        else:
            self.name = NameMatch.parse(q)

    def _query(self, phase: int, limit: int, cursor: str | None) -> RecordQuery:
        if self.ip is not None:
            return RecordQuery(rdata_ip=self.ip, types=self.types, limit=limit, cursor=cursor)
        if phase == FORWARD:
            return RecordQuery(rrname=self.name, types=self.types, limit=limit, cursor=cursor)
        return RecordQuery(rdata_name=self.name, types=self.types, limit=limit, cursor=cursor)

    def _phases(self) -> tuple[int, ...]:
        return (FORWARD,) if self.ip is not None else (FORWARD, INVERSE)

    def _owned(self, rec: Record) -> bool:
        """Whether an inverse row was already sent by the forward phase (same RR)."""
        assert self.name is not None
        name = self.name
        if name.kind == "exact":
            return rec.rrname == name.name
        if name.kind == "suffix":
            return reverse_name(rec.rrname).startswith(reverse_name(name.name)) and rec.rrname != name.name
        return rec.rrname.startswith(name.name + ".")

    def page(self, store: Store, start: Position, size: int) -> tuple[list[Record], Position | None]:
        """Up to ``size`` records from ``start``, and where the next page starts (None: this is the last)."""
        rows: list[Record] = []
        phase, cursor = start.phase, start.cursor
        while phase in self._phases():
            fetched: Page[Record] = store.records(self._query(phase, size - len(rows), cursor))
            rows += [r for r in fetched.rows if phase == FORWARD or not self._owned(r)]
            if fetched.limited and fetched.next_cursor:
                cursor = fetched.next_cursor
                if len(rows) >= size:
                    return rows, Position(phase, cursor)
                continue
            phase, cursor = phase + 1, None
            if len(rows) >= size:
                return rows, (Position(phase) if self._has_more(store, phase) else None)
        return rows, None

    def _has_more(self, store: Store, phase: int) -> bool:
        if phase not in self._phases():
            return False
        probe, _ = self.page(store, Position(phase), 50)
        return bool(probe)

    def all_rows(self, store: Store, cap: int) -> Iterator[Record]:
        """Every record of the answer, at most ``cap + 1`` (the extra one signals truncation)."""
        sent = 0
        for phase in self._phases():
            if sent > cap:
                return
            for rec in store.iter_records(self._query(phase, cap + 1 - sent, None)):
                if phase == INVERSE and self._owned(rec):
                    continue
                yield rec
                sent += 1
