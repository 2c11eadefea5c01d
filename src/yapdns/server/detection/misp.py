"""MISP export of pDNS records: a MISP event of ``passive-dns`` objects (PyMISP).

Each record is one ``passive-dns`` object built from the object template
that PyMISP ships (``MISPObject('passive-dns', strict=True)`` refuses a
relation the template lacks), with the fields MISP's own pDNS modules
fill: ``rrname``, ``rrtype``, ``rdata``, ``time_first``, ``time_last``,
``count`` and ``origin`` (``circl_passivedns``), plus ``zone_time_first``
and ``zone_time_last`` when the record was seen in zone files, as the
DNSDB module does. Times are MISP ``datetime`` attributes (UTC). A TLP
level becomes the event's ``tlp:`` tag and, when given, is on each object's
attributes too, so a partial copy keeps it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pymisp import MISPEvent, MISPObject

from yapdns.core.model import Record
from yapdns.server.detection.tlp import misp_tag

ORIGIN = "YAPDNS"
TEMPLATE = "passive-dns"


def _when(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def passive_dns_object(record: Record, tlp: str | None = None) -> MISPObject:
    """One record as a ``passive-dns`` object; raises if the template does not know a relation."""
    obj = MISPObject(TEMPLATE, strict=True, standalone=False)
    tags = [misp_tag(tlp)] if tlp else []
    fields: list[tuple[str, str, object]] = [
        ("rrname", "text", record.rrname),
        ("rrtype", "text", record.rrtype),
        ("rdata", "text", record.rdata),
        ("count", "counter", record.count),
        ("origin", "text", ORIGIN),
    ]
    if not record.zone_only:
        fields += [
            ("time_first", "datetime", _when(record.time_first)),
            ("time_last", "datetime", _when(record.time_last)),
        ]
    if record.zone_time_first is not None and record.zone_time_last is not None:
        fields += [
            ("zone_time_first", "datetime", _when(record.zone_time_first)),
            ("zone_time_last", "datetime", _when(record.zone_time_last)),
        ]
    for relation, kind, value in fields:
        obj.add_attribute(relation, type=kind, value=value, Tag=[{"name": t} for t in tags])
    return obj


def records_event(records: Iterable[Record], info: str, tlp: str | None = None) -> MISPEvent:
    """A MISP event titled ``info`` holding one ``passive-dns`` object per record."""
    event = MISPEvent()
    event.info = info
    if tlp:
        event.add_tag(misp_tag(tlp))
    for record in records:
        event.add_object(passive_dns_object(record, tlp))
    return event
