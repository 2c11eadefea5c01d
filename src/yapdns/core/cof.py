"""Records as the Common Output Format (draft-dulaunoy-dnsop-passive-dns-cof) and friends.

One serializer per output format, shared by the CLI and the query API:
COF NDJSON (COF field names, one RR per line, integer epoch times, names
without trailing dot), plain JSON objects, and CSV.

Times follow COF (``core/windows.py``): ``time_first``/``time_last`` when
the record was seen in traffic, ``zone_time_first``/``zone_time_last`` when
it was seen in zone files, both pairs when both. A record seen only in zone
files has no ``time_first``/``time_last``, except in CIRCL's answers
(``always_traffic``), whose client pypdns refuses a record without them; there
they repeat the zone times and ``zone_time_*`` say so. CSV has all four
columns and leaves the ones that do not apply empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import msgspec

from yapdns.core.model import Record
from yapdns.core.windows import HasWindows, time_fields

CSV_FIELDS = (
    "rrname", "rrtype", "rdata", "time_first", "time_last", "count", "ttl_min", "ttl_max", "zone_time_first",
    "zone_time_last",
)
WINDOW_FIELDS = frozenset({"time_first", "time_last", "zone_time_first", "zone_time_last", "zone_only"})
_encoder = msgspec.json.Encoder()


def to_cof(
    record: Record, origin: str | None = None, sensor_id: str | None = None, *, always_traffic: bool = False
) -> dict[str, object]:
    """One COF object for one RR (``rdata`` a string, as CIRCL emits it)."""
    out: dict[str, object] = {
        "rrname": record.rrname,
        "rrtype": record.rrtype,
        "rdata": record.rdata,
        **time_fields(record, always_traffic=always_traffic),
        "count": record.count,
    }
    if origin:
        out["origin"] = origin
    if sensor_id:
        out["sensor_id"] = sensor_id
    return out


def to_json(record: Record) -> dict[str, object]:
    """The API's own JSON object for a record (COF names plus TTL range), unset fields left out."""
    return {k: v for k, v in with_windows(record).items() if v is not None}


def with_windows(item: HasWindows) -> dict[str, Any]:
    """``msgspec.to_builtins(item)`` with its windows as COF time keys (``time_fields``) where its times were."""
    out: dict[str, Any] = {}
    for key, value in msgspec.to_builtins(item).items():
        if key == "time_first":
            out.update(time_fields(item))
        elif key not in WINDOW_FIELDS:
            out[key] = value
    return out


def ndjson_lines(objects: Iterable[dict[str, object]]) -> Iterator[bytes]:
    """Minified JSON, one object per line, each line ending in ``\\n``."""
    for obj in objects:
        yield _encoder.encode(obj) + b"\n"


def csv_lines(
    records: Iterable[Record],
    header: bool = True,
    extra_fields: Sequence[str] = (),
    extra: Callable[[Record], Sequence[object]] | None = None,
) -> Iterator[str]:
    """CSV rows (RFC 4180 quoting), header first; ``extra(record)`` fills the ``extra_fields`` columns after ours."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header:
        writer.writerow([*CSV_FIELDS, *extra_fields])
    for rec in records:
        times = time_fields(rec)
        cells = [times.get(f) if f in WINDOW_FIELDS else getattr(rec, f) for f in CSV_FIELDS]
        writer.writerow([_csv_safe(v) for v in (*cells, *(extra(rec) if extra else ()))])
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
