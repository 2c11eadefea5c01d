"""Turning result rows of the shared SQL layout into model objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yapdns.core.model import NegativeRecord, QueryRecord, Record, RRsetRecord
from yapdns.core.rrtypes import rrtype_text
from yapdns.storage.query import encode_cursor

Row = Sequence[Any]


def record(row: Row) -> Record:
    return Record(
        rrname=row[0],
        rrtype=rrtype_text(row[1]),
        rdata=row[2],
        time_first=row[3],
        time_last=row[4],
        count=row[5],
        ttl_min=row[6],
        ttl_max=row[7],
    )


def rrset(row: Row) -> RRsetRecord:
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
