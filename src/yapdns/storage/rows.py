"""Turning result rows of the shared SQL layout into model objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yapdns.core.model import Evidence, NegativeRecord, Provenance, QueryRecord, Record, RRsetRecord
from yapdns.core.rrtypes import rrtype_text
from yapdns.storage.query import encode_cursor

Row = Sequence[Any]


def record(row: Row) -> Record:
    """``rrname rrtype rdata time_first time_last count ttl_min ttl_max zone_time_first zone_time_last
    zone_only`` (``sql.RECORD_COLS``)."""
    return Record(
        rrname=row[0],
        rrtype=rrtype_text(row[1]),
        rdata=row[2],
        time_first=int(row[3]),
        time_last=int(row[4]),
        count=int(row[5]),
        ttl_min=row[6],
        ttl_max=row[7],
        zone_time_first=row[8],
        zone_time_last=row[9],
        zone_only=bool(row[10]),
    )


def rrset(row: Row) -> RRsetRecord:
    """``rrname rrtype bailiwick rdata`` and the columns of ``record`` from ``time_first`` on."""
    return RRsetRecord(
        rrname=row[0],
        rrtype=rrtype_text(row[1]),
        bailiwick=row[2] or None,
        rdata=tuple(row[3].split("\n")),
        time_first=row[4],
        time_last=row[5],
        count=row[6],
        ttl_min=row[7],
        ttl_max=row[8],
        zone_time_first=row[9],
        zone_time_last=row[10],
        zone_only=bool(row[11]),
    )


def provenance_row(row: Row) -> Provenance:
    """``sensor evidence source time_first time_last count zone_time_first zone_time_last zone_only``."""
    return Provenance(
        row[0],
        Evidence(row[1]),
        row[2],
        int(row[3]),
        int(row[4]),
        int(row[5]),
        None if row[6] is None else int(row[6]),
        None if row[7] is None else int(row[7]),
        bool(row[8]),
    )


def negative(row: Row) -> NegativeRecord:
    return NegativeRecord(
        rrname=row[0], rrtype=rrtype_text(row[1]), rcode=row[2], time_first=row[3], time_last=row[4], count=row[5]
    )


def query(row: Row) -> QueryRecord:
    return QueryRecord(rrname=row[0], rrtype=rrtype_text(row[1]), time_first=row[2], time_last=row[3], count=row[4])


def cursor_of(row: Row, width: int) -> str:
    """The cursor after ``row``: its trailing ``width`` ordering columns."""
    return encode_cursor(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row[len(row) - width :]))
