"""STIX 2.1 export of pDNS records (built with the ``stix2`` library).

One record ``(rrname, rrtype, rdata)`` of type A, AAAA or CNAME becomes:

* the SCOs ``domain-name`` (the owner) and ``ipv4-addr``/``ipv6-addr``
  (A/AAAA) or ``domain-name`` (CNAME target), with their deterministic ids;
* a ``resolves-to`` Relationship from the owner to the target, with
  ``start_time`` = first seen and ``stop_time`` = last seen (STIX 2.1 wants
  ``stop_time`` later than ``start_time``: a record seen within one second
  has no ``stop_time``);
* an Observed Data object over the three, with ``first_observed``,
  ``last_observed`` and ``number_observed`` (the count, capped at STIX's
  maximum 999,999,999).

No custom property is used. Other types (MX, NS, TXT...) have no STIX
resolution object and are left out; ``skipped`` says how many. A TLP level
marks every object (``object_marking_refs``) and its marking definition is
in the bundle.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import stix2

from yapdns.core.model import Record

STIX_TYPES = frozenset({"A", "AAAA", "CNAME"})
NUMBER_OBSERVED_MAX = 999_999_999
IDENTITY = stix2.Identity(
    id="identity--b1b6d2a4-5e0f-4c7a-9d3e-6f1a2b3c4d5e",  # fixed (a UUIDv4, as STIX wants for SDOs)
    name="YAPDNS",
    identity_class="system",
    created="2026-01-01T00:00:00.000Z",
    modified="2026-01-01T00:00:00.000Z",
)
MARKINGS = {"white": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER, "red": stix2.TLP_RED}


def stamp(epoch: int) -> dt.datetime:
    """An epoch second as the aware UTC datetime STIX timestamps are built from."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@dataclass
class StixExport:
    """Objects for one bundle, each SCO once however many records share it."""

    tlp: str | None = None
    objects: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0

    def _marking(self) -> dict[str, list[str]]:
        return {"object_marking_refs": [MARKINGS[self.tlp].id]} if self.tlp else {}

    def _sdo(self) -> dict[str, Any]:
        return {"created_by_ref": IDENTITY.id, **self._marking()}

    def _keep(self, obj: Any) -> Any:
        return self.objects.setdefault(obj.id, obj)

    def add(self, record: Record) -> bool:
        """Add one record's objects; False (and counted) when its type has no STIX form."""
        target = self._target(record)
        if target is None:
            self.skipped += 1
            return False
        owner = self._keep(stix2.DomainName(value=record.rrname, **self._marking()))
        target = self._keep(target)
        times = {"start_time": stamp(record.time_first)}
        if record.time_last > record.time_first:
            times["stop_time"] = stamp(record.time_last)
        rel = self._keep(
            stix2.Relationship(
                source_ref=owner.id, target_ref=target.id, relationship_type="resolves-to", **times, **self._sdo()
            )
        )
        self._keep(
            stix2.ObservedData(
                first_observed=stamp(record.time_first),
                last_observed=stamp(record.time_last),
                number_observed=max(1, min(record.count, NUMBER_OBSERVED_MAX)),
                object_refs=[owner.id, target.id, rel.id],
                **self._sdo(),
            )
        )
        return True

    def _target(self, record: Record) -> Any:
        if record.rrtype not in STIX_TYPES:
            return None
        if record.rrtype == "CNAME":
            return stix2.DomainName(value=record.rdata, **self._marking())
        try:
            ip = ipaddress.ip_address(record.rdata)
        except ValueError:
            return None
        cls = stix2.IPv4Address if ip.version == 4 else stix2.IPv6Address
        return cls(value=str(ip), **self._marking())

    def bundle(self) -> stix2.Bundle:
        """The bundle: the identity, the marking definition (if any) and every object added."""
        head: list[Any] = [IDENTITY]
        if self.tlp:
            head.append(MARKINGS[self.tlp])
        return stix2.Bundle(objects=[*head, *self.objects.values()], allow_custom=False)


def records_bundle(records: Iterable[Record], tlp: str | None = None) -> tuple[stix2.Bundle, int]:
    """A bundle of ``records`` marked ``tlp``, and the number of records left out (no STIX form)."""
    export = StixExport(tlp=tlp)
    for record in records:
        export.add(record)
    return export.bundle(), export.skipped
