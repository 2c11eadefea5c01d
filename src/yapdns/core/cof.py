"""Records as the Common Output Format (draft-dulaunoy-dnsop-passive-dns-cof) and friends.

One serializer per output format, shared by the CLI and the query API:
COF NDJSON (COF field names, one RR per line, integer epoch times, names
without trailing dot), plain JSON objects, and CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import msgspec

from yapdns.core.model import Record

CSV_FIELDS = ("rrname", "rrtype", "rdata", "time_first", "time_last", "count", "ttl_min", "ttl_max")
_encoder = msgspec.json.Encoder()


def to_cof(record: Record, origin: str | None = None, sensor_id: str | None = None) -> dict[str, object]:
    """One COF object for one RR (``rdata`` a string, as CIRCL emits it)."""
    out: dict[str, object] = {
        "rrname": record.rrname,
        "rrtype": record.rrtype,
        "rdata": record.rdata,
        "time_first": record.time_first,
        "time_last": record.time_last,
        "count": record.count,
    }
    if origin:
        out["origin"] = origin
    if sensor_id:
        out["sensor_id"] = sensor_id
    return out


def to_json(record: Record) -> dict[str, object]:
    """The API's own JSON object for a record (COF names plus TTL range)."""
    out = msgspec.structs.asdict(record)
    return {k: v for k, v in out.items() if v is not None}


def ndjson_lines(objects: Iterable[dict[str, object]]) -> Iterator[bytes]:
    """Minified JSON, one object per line, each line ending in ``\\n``."""
    for obj in objects:
        yield _encoder.encode(obj) + b"\n"


def csv_lines(records: Iterable[Record], header: bool = True) -> Iterator[str]:
    """CSV rows (RFC 4180 quoting), header first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_FIELDS)
    for rec in records:
        writer.writerow([_csv_safe(getattr(rec, f)) for f in CSV_FIELDS])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if header and buf.getvalue():
        yield buf.getvalue()


def _csv_safe(value: object) -> object:
    """Defuse spreadsheet formulas: a cell starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
