"""Address context on ClickHouse (``storage/context.py`` has the contract): ``ip_context`` rows on the first shard.

``add_ip_context`` reads the stored history of its addresses, keeps each row ``context.keep`` accepts and
appends them in one insert (stamped now, unless the row carries when another store kept it: a copy). Two
enrichers racing on one address may both append a row; ``ip_context`` applies ``keep`` again while reading
(by source, in data-date then recorded order), so what it returns is the contract's history either way. A
query's context filter is a ``GLOBAL IN`` over this table: the addresses' keys (``rdx``) or texts (``entry``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from yapdns.core.rdata import ip_from_key, ip_key
from yapdns.core.rrtypes import AAAA, A
from yapdns.storage.clickhouse.client import Connection
from yapdns.storage.context import CHUNK, ContextFilter, IpContextRow, keep

COLUMNS = ("ip", "source", "data_date", "asn", "as_name", "prefix", "country", "recorded_at", "ip_text")


def key(ip: str) -> str:
    """An address as ``rdx.rkey`` holds it: its 16-byte key in hex."""
    found = ip_key(AAAA if ":" in ip else A, ip)
    assert found is not None
    return found.hex()


def _row(values: Sequence[Any]) -> IpContextRow:
    ip, source, data_date, asn, as_name, prefix, country, recorded_at = values
    return IpContextRow(
        ip=ip_from_key(bytes.fromhex(ip)), source=source, data_date=int(data_date),
        asn=None if asn is None else int(asn), as_name=as_name, prefix=prefix, country=country,
        recorded_at=int(recorded_at),
    )  # fmt: skip


def _histories(conn: Connection, keys: Sequence[str]) -> dict[tuple[str, str], list[IpContextRow]]:
    """The kept rows of these addresses, per ``(ip, source)``, in data-date order."""
    found = conn.rows(
        f"SELECT {', '.join(COLUMNS[:-1])} FROM {conn.database}.ip_context WHERE ip IN %(keys)s "
        "ORDER BY ip, source, data_date, recorded_at",
        {"keys": tuple(keys)},
    )
    history: dict[tuple[str, str], list[IpContextRow]] = {}
    for values in found:
        row = _row(values)
        past = history.setdefault((row.ip, row.source), [])
        if keep(row, past):
            past.append(row)
    return history


def ip_context(conn: Connection, ips: Sequence[str]) -> dict[str, list[IpContextRow]]:
    out: dict[str, list[IpContextRow]] = {}
    keys = list(dict.fromkeys(key(ip) for ip in ips))
    for start in range(0, len(keys), CHUNK):
        for (ip, _), rows in sorted(_histories(conn, keys[start : start + CHUNK]).items()):
            out.setdefault(ip, []).extend(rows)
    return out


def add_ip_context(conn: Connection, rows: Sequence[IpContextRow]) -> int:
    now = int(time.time())
    added = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        history = _histories(conn, list(dict.fromkeys(key(r.ip) for r in chunk)))
        kept: list[IpContextRow] = []
        for row in chunk:
            past = history.setdefault((row.ip, row.source), [])
            if keep(row, past):
                past.append(row)
                kept.append(row)
        if kept:
            keys = [key(r.ip) for r in kept]
            values = [
                (k, r.source, r.data_date, *r.value(), r.recorded_at or now, ip_from_key(bytes.fromhex(k)))
                for k, r in zip(keys, kept, strict=True)
            ]
            conn.insert("ip_context", COLUMNS, [list(column) for column in zip(*values, strict=True)])
        added += len(kept)
    return added


def filter_clause(db: str, context: ContextFilter, column: str, p: Callable[[Any], str]) -> str:
    """``column GLOBAL IN (the matching addresses)``: ``column`` holds keys (``rkey``) or texts (``k1``)."""
    parts = [f"{name} = {p(value)}" for name, value in
             (("asn", context.asn), ("country", context.country), ("prefix", context.prefix)) if value is not None]
    wanted = "ip" if column == "rkey" else "ip_text"
    return f"{column} GLOBAL IN (SELECT {wanted} FROM {db}.ip_context WHERE {' AND '.join(parts)})"
