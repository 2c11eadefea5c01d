"""MISP events that carry ``passive-dns`` objects (YAPDNS's export, MISP's pDNS expansion modules, MISP itself).

Reads one MISP event as JSON: ``{"Event": {...}}``, the bare event, or a
list of either (a saved ``/events/restSearch`` answer). Each
``passive-dns`` object is one observation of its ``rrname``, ``rrtype`` and
``rdata`` (one RR: the template allows one ``rdata``), ``count`` (default 1),
``bailiwick``, and its times: ``time_first``/``time_last`` (traffic) and
``zone_time_first``/``zone_time_last`` (zone files), as DNSDB and COF keep
them apart. A ``domain|ip`` attribute is one A or AAAA observation (count 1)
when it carries MISP's ``first_seen`` (and ``last_seen``); without it, it
says no time and is rejected (``no_time``): its ``timestamp`` is when it was
edited, not seen. Objects of other templates and other attributes are
passed over.

Each object is read with PyMISP against the ``passive-dns`` template it
ships: a required relation missing (``rrname``, ``rrtype``, ``rdata``) or
repeated where the template allows one, an attribute PyMISP refuses (a
``datetime`` that is no date) or no time at all rejects that object alone;
the rest of the event is kept. Evidence ``imported``.

Time: MISP ``datetime`` attributes (ISO 8601, UTC unless they say otherwise);
kept to the second.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Iterator
from typing import Any

from pymisp import MISPObject
from pymisp.exceptions import PyMISPError

from yapdns.core.errors import MissingField
from yapdns.core.model import Evidence, Observation
from yapdns.core.windows import sighting_fields
from yapdns.exchange.errors import BadDocument, Reject

TEMPLATE = "passive-dns"
SOURCE = "misp"
TIMES = ("time_first", "time_last", "zone_time_first", "zone_time_last")


def events(doc: Any) -> list[dict[str, Any]]:
    """The events of a decoded MISP export (``{"Event": ...}``, a bare event, a list of either, or a restSearch
    answer ``{"response": [...]}``)."""
    if isinstance(doc, dict) and isinstance(doc.get("response"), list):
        doc = doc["response"]
    items = doc if isinstance(doc, list) else [doc]
    found = [item.get("Event", item) if isinstance(item, dict) else None for item in items]
    if not found or any(not isinstance(e, dict) or not isinstance(e.get("Object", []), list) for e in found):
        raise BadDocument("not a MISP event (an object with an 'Object' list, or {'Event': ...})", "not_an_event")
    return found  # type: ignore[return-value]


def _epoch(value: Any) -> int:
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return int((when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp())


def read_resolutions(data: bytes, reject: Reject, sensor_id: str) -> Iterator[Observation]:
    """The ``passive-dns`` objects of an event as observations under ``sensor_id``; bad ones go to ``reject``."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadDocument(f"not JSON: {exc}", "bad_json") from None
    for event in events(doc):
        for raw in event.get("Object", []):
            if isinstance(raw, dict) and raw.get("name") == TEMPLATE:
                observation = _object(raw, reject, sensor_id)
                if observation is not None:
                    yield observation
        for raw in event.get("Attribute", []) if isinstance(event.get("Attribute"), list) else ():
            if isinstance(raw, dict) and raw.get("type") == "domain|ip":
                observation = _domain_ip(raw, reject, sensor_id)
                if observation is not None:
                    yield observation


def _domain_ip(raw: dict[str, Any], reject: Reject, sensor_id: str) -> Observation | None:
    """A ``domain|ip`` attribute with its ``first_seen`` (and ``last_seen``): an A or AAAA resolution, count 1."""
    label = str(raw.get("uuid", "?"))[:40]
    name, sep, address = str(raw.get("value", "")).partition("|")
    try:
        version = ipaddress.ip_address(address.strip()).version
    except ValueError:
        reject(f"domain|ip attribute {label}: {str(raw.get('value'))[:80]!r} is not a name|address pair",
               "invalid_object")
        return None
    if not sep or not raw.get("first_seen"):
        reject(f"domain|ip attribute {label} has no first_seen (MISP's sighting time of the pair)", "no_time")
        return None
    try:
        first = _epoch(raw["first_seen"])
        last = _epoch(raw.get("last_seen") or raw["first_seen"])
    except (ValueError, TypeError) as exc:
        reject(f"domain|ip attribute {label}: {exc}", "invalid_object")
        return None
    return Observation(
        rrname=name.strip(), rrtype="A" if version == 4 else "AAAA", rdata=(address.strip(),), time_first=first,
        time_last=last, count=1, sensor_id=sensor_id, source=SOURCE, evidence=Evidence.IMPORTED,
    )


def _relations(raw: dict[str, Any], label: str, reject: Reject) -> dict[str, list[Any]] | None:
    """The object's values by relation, checked against the template (None: rejected)."""
    try:
        obj = MISPObject(TEMPLATE, strict=True, standalone=True)
        obj.from_dict(**raw)
        obj.to_dict(strict=True)  # checks the template's required relations
    except (PyMISPError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reject(f"passive-dns object {label}: {exc}", "invalid_object")
        return None
    values: dict[str, list[Any]] = {}
    for attribute in obj.attributes:
        values.setdefault(attribute.object_relation, []).append(attribute.value)
    return values


def _object(raw: dict[str, Any], reject: Reject, sensor_id: str) -> Observation | None:
    label = str(raw.get("uuid", "?"))[:40]
    values = _relations(raw, label, reject)
    if values is None:
        return None
    try:
        times = sighting_fields(*(_epoch(values[k][0]) if k in values else None for k in TIMES))
        count = int(values.get("count", [1])[0])
    except MissingField:
        reject(f"passive-dns object {label} has no time_first/time_last or zone times", "no_time")
        return None
    except (ValueError, TypeError) as exc:
        reject(f"passive-dns object {label}: {exc}", "invalid_object")
        return None
    return Observation(
        rrname=str(values["rrname"][0]), rrtype=str(values["rrtype"][0]).upper(),
        rdata=tuple(str(v) for v in values["rdata"]), count=count,
        bailiwick=str(values["bailiwick"][0]) if "bailiwick" in values else None,
        sensor_id=sensor_id, source=SOURCE, evidence=Evidence.IMPORTED, **times,
    )
