"""Address context: who announced an address and where it was, as each dataset said, kept as a history.

The ``Store`` contract's three context methods (``storage/base.py``) and their
types live here; ``ContextSql`` implements them once for both SQL backends.

Guarantees (every backend):

* ``add_ip_context`` never overwrites: a row is kept when its value
  (``asn, as_name, prefix, country``) differs from the address's row of the
  same ``source`` with the latest earlier ``data_date``; a row whose
  ``(ip, source, data_date)`` is already stored is ignored (a replay). So an
  address first enriched with 2024 data keeps that value when 2026 data
  disagrees: the 2026 value is added beside it, with its date.
* ``ip_context`` returns, per address, every kept row ordered by
  ``source`` then ``data_date``.
* ``address_feed`` walks the addresses of per-RR A/AAAA records in the
  order the store first wrote them, from an opaque cursor, so an enricher
  sees every new address once per dataset without a full scan.

A backend that cannot compare before it appends atomically (ClickHouse:
``storage/clickhouse/context.py``) may keep a raced row and drop, when
reading, each row ``keep`` would not have kept: the contract is what
``ip_context`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from yapdns.core.errors import InvalidQuery
from yapdns.core.rdata import ip_from_key, ip_key
from yapdns.core.rrtypes import AAAA, A
from yapdns.storage.migrations import MigrationDb

CHUNK = 500  # addresses per statement (bound parameters stay well under every engine's limit)


class IpContextRow(msgspec.Struct, frozen=True, kw_only=True):
    """What one dataset (``source``, built on ``data_date``) says about one address."""

    ip: str
    source: str
    data_date: int
    asn: int | None = None
    as_name: str | None = None
    prefix: str | None = None
    country: str | None = None
    recorded_at: int = 0  # when the store kept this value (0 on rows not yet stored)

    def value(self) -> tuple[int | None, str | None, str | None, str | None]:
        return self.asn, self.as_name, self.prefix, self.country


class AddressPage(msgspec.Struct, frozen=True):
    """Addresses in the store's write order, and the cursor to continue after them (None: nothing new)."""

    addresses: list[str]
    next_cursor: str | None


class ContextFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Records whose address any kept context row puts in this AS, country and/or routed prefix."""

    asn: int | None = None
    country: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        if self.asn is None and self.country is None and self.prefix is None:
            raise InvalidQuery("a context filter needs asn, country or prefix")

    def clause(self) -> tuple[str, tuple[object, ...]]:
        """``rr.ip IN (...)`` with ``?`` placeholders, and its parameters."""
        parts: list[str] = []
        params: list[object] = []
        for column, value in (("asn", self.asn), ("country", self.country), ("prefix", self.prefix)):
            if value is not None:
                parts.append(f"c.{column} = ?")
                params.append(value)
        return f"rr.ip IN (SELECT c.ip FROM ip_context c WHERE {' AND '.join(parts)})", tuple(params)


_COLUMNS = "ip, source, data_date, asn, as_name, prefix, country, recorded_at"


def _row(values: Sequence[Any]) -> IpContextRow:
    ip, source, data_date, asn, as_name, prefix, country, recorded_at = values
    return IpContextRow(
        ip=ip_from_key(bytes(ip)), source=source, data_date=data_date, asn=asn, as_name=as_name,
        prefix=prefix, country=country, recorded_at=recorded_at,
    )


def _key(ip: str) -> bytes:
    key = ip_key(AAAA if ":" in ip else A, ip)
    assert key is not None
    return key


def keep(new: IpContextRow, history: Sequence[IpContextRow]) -> bool:
    """Whether ``new`` adds to ``history`` (the stored rows of its address and source, any order)."""
    if any(h.data_date == new.data_date for h in history):
        return False
    earlier = [h for h in history if h.data_date < new.data_date]
    return not earlier or max(earlier, key=lambda h: h.data_date).value() != new.value()


class ContextSql:
    """The context methods of the ``Store`` contract for the SQL backends."""

    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _in_write_transaction(self, fn: Callable[[MigrationDb], int]) -> int:
        """Run ``fn`` on the writer's connection in one transaction (``?`` placeholders)."""
        raise NotImplementedError

    def _p(self, text: str) -> str:
        raise NotImplementedError

    def address_feed(self, cursor: str | None, limit: int) -> AddressPage:
        after = _cursor_id(cursor)
        rows = self._rows(
            self._p("SELECT id, ip FROM rr WHERE id > ? AND ip IS NOT NULL ORDER BY id LIMIT ?"), (after, limit)
        )
        if not rows:
            return AddressPage([], None)
        seen = dict.fromkeys(ip_from_key(bytes(ip)) for _, ip in rows)
        return AddressPage(list(seen), str(rows[-1][0]))

    def ip_context(self, ips: Sequence[str]) -> dict[str, list[IpContextRow]]:
        found: dict[str, list[IpContextRow]] = {}
        keys = list(dict.fromkeys(_key(ip) for ip in ips))
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ", ".join(["?"] * len(chunk))
            for values in self._rows(
                self._p(f"SELECT {_COLUMNS} FROM ip_context WHERE ip IN ({marks}) ORDER BY ip, source, data_date"),
                chunk,
            ):
                row = _row(values)
                found.setdefault(row.ip, []).append(row)
        return found

    def add_ip_context(self, rows: Sequence[IpContextRow]) -> int:
        if not rows:
            return 0
        now = int(time.time())
        return self._in_write_transaction(lambda db: sum(_add_chunk(db, rows[i : i + CHUNK], now)
                                                          for i in range(0, len(rows), CHUNK)))


def _add_chunk(db: MigrationDb, rows: Sequence[IpContextRow], now: int) -> int:
    keys = list(dict.fromkeys(_key(r.ip) for r in rows))
    marks = ", ".join(["?"] * len(keys))
    history: dict[tuple[str, str], list[IpContextRow]] = {}
    for values in db.rows(f"SELECT {_COLUMNS} FROM ip_context WHERE ip IN ({marks})", keys):
        stored = _row(values)
        history.setdefault((stored.ip, stored.source), []).append(stored)
    added = 0
    for row in rows:
        past = history.setdefault((row.ip, row.source), [])
        if not keep(row, past):
            continue
        db.run(
            f"INSERT INTO ip_context ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_key(row.ip), row.source, row.data_date, row.asn, row.as_name, row.prefix, row.country, now),
        )
        past.append(msgspec.structs.replace(row, recorded_at=now))
        added += 1
    return added


def _cursor_id(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 19:
        raise InvalidQuery("invalid address feed cursor")
    return int(cursor)
