"""DNSDB objects (the ``obj`` of SAF lines), with only the keys clients accept.

MISP's farsight module looks every key up in a fixed mapping, so a row
carries nothing beyond ``rrname rrtype rdata bailiwick count time_first
time_last zone_time_first zone_time_last`` (``num_results`` on summaries,
``raw_rdata`` on Flex rdata). Names are FQDNs with the trailing dot; rdata
is DNSDB presentation form (names absolute, binary fields unbroken);
``rdata`` is an array on lookups and a string on Flex. As DNSDB does, a row
has ``time_first``/``time_last`` when it was seen in traffic and
``zone_time_first``/``zone_time_last`` when it was seen in zone files (both
pairs when both; ``core/windows.py``). Times are integers, or
``YYYY-MM-DDTHH:MM:SSZ`` strings with ``humantime``.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import dns.exception

from yapdns.core.model import Record, RRsetRecord
from yapdns.core.names import fqdn
from yapdns.core.rdata import to_dnsdb_text, to_wire_hex
from yapdns.core.rrtypes import rrtype_code
from yapdns.core.windows import HasWindows, Windows, time_fields
from yapdns.storage.flex import FlexRow

Obj = dict[str, object]


def human(epoch: int) -> str:
    """RFC 3339 UTC, second precision."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _times(obj: Obj, item: HasWindows, humantime: bool) -> Obj:
    obj.update(time_fields(item, human if humantime else int))
    return obj


def rrset_obj(rec: RRsetRecord, humantime: bool) -> Obj:
    code = rrtype_code(rec.rrtype)
    obj: Obj = {"rrname": fqdn(rec.rrname), "rrtype": rec.rrtype}
    if rec.bailiwick:
        obj["bailiwick"] = fqdn(rec.bailiwick)
    obj["rdata"] = [to_dnsdb_text(code, r) for r in rec.rdata]
    obj["count"] = rec.count
    return _times(obj, rec, humantime)


def rdata_obj(rec: Record, humantime: bool) -> Obj:
    obj: Obj = {
        "rrname": fqdn(rec.rrname),
        "rrtype": rec.rrtype,
        "rdata": [to_dnsdb_text(rrtype_code(rec.rrtype), rec.rdata)],
        "count": rec.count,
    }
    return _times(obj, rec, humantime)


def flex_obj(row: FlexRow, verbose: bool, humantime: bool) -> Obj:
    if row.rrname is not None:
        obj: Obj = {"rrname": fqdn(row.rrname), "rrtype": row.rrtype}
    else:
        code = rrtype_code(row.rrtype)
        rdata = row.rdata or ""
        obj = {"rdata": to_dnsdb_text(code, rdata), "rrtype": row.rrtype}
        with contextlib.suppress(dns.exception.DNSException, ValueError):  # then the optional field is left out
            obj["raw_rdata"] = to_wire_hex(code, rdata)
    if verbose:
        obj["count"] = row.count
        _times(obj, row, humantime)
    return obj


def summary_obj(count: int, num_results: int, windows: Windows, humantime: bool) -> Obj:
    return _times({"count": count, "num_results": num_results}, windows, humantime)
