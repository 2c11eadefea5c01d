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
edited, not seen. A ``domain-ip`` object (a name and the addresses it was
seen with) is one A or AAAA observation (by address family, count 1) per
name (``domain`` and ``hostname`` values) and ``ip`` value, with the same
time rule as ``domain|ip``: the object's ``first-seen`` (and ``last-seen``)
attributes, else the object's own MISP ``first_seen`` (and ``last_seen``);
without a first-seen time it is rejected (``no_time``). A ``domain-ip``
object without both a name and an address carries no resolution and is
passed over, as are objects of other templates and other attributes.

Each object is read with PyMISP against the template it ships (an object
of an older template version is read too, as MISP events keep the version
they were written with): a required relation missing (``rrname``, ``rrtype``, ``rdata``) or
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
DOMAIN_IP = "domain-ip"
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
            elif isinstance(raw, dict) and raw.get("name") == DOMAIN_IP:
                yield from _domain_ip_object(raw, reject, sensor_id)
        for raw in event.get("Attribute", []) if isinstance(event.get("Attribute"), list) else ():
            if isinstance(raw, dict) and raw.get("type") == "domain|ip":
                observation = _domain_ip(raw, reject, sensor_id)
                if observation is not None:
                    yield observation


def _domain_ip(raw: dict[str, Any], reject: Reject, sensor_id: str) -> Observation | None:
    """A ``domain|ip`` attribute with its ``first_seen`` (and ``last_seen``): an A or AAAA resolution, count 1."""
    label = str(raw.get("uuid", "?"))[:40]
    name, _, address = str(raw.get("value", "")).partition("|")
    try:
        version = ipaddress.ip_address(address.strip()).version
    except ValueError:
        reject(f"domain|ip attribute {label}: {str(raw.get('value'))[:80]!r} is not a name|address pair",
               "invalid_object")
        return None
    try:
        times = _seen(raw.get("first_seen"), raw.get("last_seen"))
    except (ValueError, TypeError) as exc:
        reject(f"domain|ip attribute {label}: {exc}", "invalid_object")
        return None
    if times is None:
        reject(f"domain|ip attribute {label} has no first_seen (MISP's sighting time of the pair)", "no_time")
        return None
    return _pair(name.strip(), address.strip(), version, times, sensor_id)


def _seen(first: Any, last: Any) -> tuple[int, int] | None:
    """The one time rule of a MISP pair: ``first_seen`` is required, ``last_seen`` defaults to it (None: no time).

    Never the ``timestamp``: that is when the attribute or object was last edited in MISP, not when the pair
    was seen.
    """
    if not first:
        return None
    return _epoch(first), _epoch(last or first)


def _pair(name: str, address: str, version: int, times: tuple[int, int], sensor_id: str) -> Observation:
    return Observation(
        rrname=name, rrtype="A" if version == 4 else "AAAA", rdata=(address,), time_first=times[0],
        time_last=times[1], count=1, sensor_id=sensor_id, source=SOURCE, evidence=Evidence.IMPORTED,
    )


def _domain_ip_object(raw: dict[str, Any], reject: Reject, sensor_id: str) -> Iterator[Observation]:
    """A ``domain-ip`` object: one A or AAAA observation per name (``domain``, ``hostname``) and ``ip``."""
    label = str(raw.get("uuid", "?"))[:40]
    read = _relations(raw, DOMAIN_IP, label, reject)
    if read is None:
        return
    values = read[0]
    names = [str(v).strip() for v in values.get("domain", []) + values.get("hostname", [])]
    addresses = [str(v).strip() for v in values.get("ip", [])]
    if not names or not addresses:
        return  # a name or an address alone: no resolution
    try:  # both times from the attributes when they say first-seen, else both from the object itself
        if "first-seen" in values:
            times = _seen(values["first-seen"][0], values.get("last-seen", [None])[0])
        else:
            times = _seen(raw.get("first_seen"), raw.get("last_seen"))
    except (ValueError, TypeError) as exc:
        reject(f"domain-ip object {label}: {exc}", "invalid_object")
        return
    if times is None:
        reject(f"domain-ip object {label} has no first-seen (neither the attribute nor the object's first_seen)",
               "no_time")
        return
    for address in addresses:
        try:
            version = ipaddress.ip_address(address).version
        except ValueError:
            reject(f"domain-ip object {label}: ip {address[:80]!r} is not an address", "invalid_object")
            continue
        for name in names:
            yield _pair(name, address, version, times, sensor_id)


def _relations(
    raw: dict[str, Any], template: str, label: str, reject: Reject
) -> tuple[dict[str, list[Any]], MISPObject] | None:
    """The object's values by relation and the object, checked against the template's required relations
    (None: rejected); an object written with another version of the template is read too."""
    try:
        obj = MISPObject(template, strict=False, standalone=True)
        obj.from_dict(**raw)
        obj.to_dict(strict=True)  # checks the template's required relations
    except (PyMISPError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reject(f"{template} object {label}: {exc}", "invalid_object")
        return None
    values: dict[str, list[Any]] = {}
    for attribute in obj.attributes:
        values.setdefault(attribute.object_relation, []).append(attribute.value)
    return values, obj


def _object(raw: dict[str, Any], reject: Reject, sensor_id: str) -> Observation | None:
    label = str(raw.get("uuid", "?"))[:40]
    read = _relations(raw, TEMPLATE, label, reject)
    if read is None:
        return None
    values = read[0]
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
