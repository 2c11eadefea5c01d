"""Watchlist indicators read from people and files: one value, CSV, STIX 2.1 bundles, MISP events.

Every reader yields ``IndicatorSpec`` values (checked and normalized) and
``Skipped`` notes for what it could not use, so an import reports both and
never fails on one bad line. Kinds:

* ``name``: an exact name, ``*.example.com`` (strict subdomains) or
  ``www.example.*`` (names starting with those labels), as in searches;
* ``ip``: an address or CIDR (IPv4 or IPv6);
* ``regex``: a regular expression searched in the owner name;
* ``nod``: a newly observed name under a suffix (``nod:example.com``);
* ``asn``: an autonomous system (``asn:AS13335``): A/AAAA records whose
  address the enrichment's context puts in it.

A line reads ``value`` (kind guessed: an IP/CIDR is ``ip``, ``re:...`` or
``/.../`` is ``regex``, ``nod:...`` is ``nod``, ``asn:...`` is ``asn``,
anything else ``name``);
CSV has a header with ``value`` and optional ``kind,label,tlp,expires``.
STIX indicators (``pattern_type`` ``stix``) are read with ``stix2-patterns``:
``domain-name:value`` ``=``, ``LIKE '%.x'`` (suffix) and ``MATCHES``,
``ipv4-addr:value``/``ipv6-addr:value`` ``=`` and ``ISSUBSET``,
``autonomous-system:number =``. MISP events
are read with PyMISP: attributes (and object attributes) of type
``domain``, ``hostname``, ``ip-src``, ``ip-dst``, ``domain|ip``,
``ip-src|port``, ``ip-dst|port``, ``AS``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import regex

from yapdns.core.errors import InvalidQuery
from yapdns.server.detection import tlp as tlp_levels
from yapdns.storage.query import NameMatch

Kind = Literal["name", "ip", "regex", "nod", "asn"]
KINDS: tuple[Kind, ...] = ("name", "ip", "regex", "nod", "asn")
ASN_MAX = 2**32 - 1
VALUE_MAX = 500
LABEL_MAX = 200
STIX_TLP = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
MISP_TYPES = {
    "domain": "name",
    "hostname": "name",
    "ip-src": "ip",
    "ip-dst": "ip",
    "domain|ip": "both",
    "ip-src|port": "ip",
    "ip-dst|port": "ip",
    "AS": "asn",
}


class BadIndicator(ValueError):
    """The indicator is not a name, IP/CIDR, regex or NOD suffix this watchlist can match."""


@dataclass(frozen=True)
class IndicatorSpec:
    """One checked, normalized watchlist indicator with its label, TLP level and expiry."""

    kind: Kind
    value: str
    label: str = ""
    tlp: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class Skipped:
    """Something an import could not use, and why."""

    where: str
    reason: str


Read = IndicatorSpec | Skipped


def check(kind: str, value: str, label: str = "", tlp: str | None = None, expires: str | None = None) -> IndicatorSpec:
    """One indicator, normalized; ``BadIndicator`` says what is wrong."""
    value = value.strip()
    if not value or len(value) > VALUE_MAX:
        raise BadIndicator(f"an indicator needs a value of 1 to {VALUE_MAX} characters")
    if kind not in KINDS:
        raise BadIndicator(f"kind must be one of {', '.join(KINDS)}")
    try:
        level = tlp_levels.parse(tlp)
    except tlp_levels.UnknownTlp as exc:
        raise BadIndicator(str(exc)) from None
    return IndicatorSpec(kind, _normalized(kind, value), label.strip()[:LABEL_MAX], level, _expiry(expires))


def _normalized(kind: str, value: str) -> str:
    try:
        if kind == "ip":
            return str(ipaddress.ip_network(value, strict=False))
        if kind == "regex":
            regex.compile(value)
            return value
        if kind == "nod":
            return NameMatch.parse(value).name
        if kind == "asn":
            return f"AS{asn_number(value)}"
        return str(NameMatch.parse(value))
    except (ValueError, InvalidQuery, regex.error) as exc:
        raise BadIndicator(f"not a valid {kind}: {exc}") from None


def asn_number(value: str) -> int:
    """``AS13335``, ``as13335`` or ``13335`` as the number (``ValueError`` otherwise)."""
    text = value.strip()
    digits = text[2:] if text[:2].upper() == "AS" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10 or int(digits) > ASN_MAX:
        raise ValueError(f"{value[:40]!r} is not an AS number (AS0 to AS{ASN_MAX})")
    return int(digits)


def _expiry(text: str | None) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadIndicator(f"expires must be an ISO 8601 date or time, not {text[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def guess(value: str, label: str = "", tlp: str | None = None, expires: str | None = None) -> IndicatorSpec:
    """One indicator whose kind is read from its form (module docstring)."""
    text = value.strip()
    if text.startswith("re:"):
        return check("regex", text[3:], label, tlp, expires)
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        return check("regex", text[1:-1], label, tlp, expires)
    if text.startswith("nod:"):
        return check("nod", text[4:], label, tlp, expires)
    if text.lower().startswith("asn:"):
        return check("asn", text[4:], label, tlp, expires)
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return check("name", text, label, tlp, expires)
    return check("ip", text, label, tlp, expires)


def read_lines(text: str, label: str = "", tlp: str | None = None) -> Iterator[Read]:
    """One indicator a line; blank lines and ``#`` comments are ignored."""
    for number, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if value and not value.startswith("#"):
            yield _attempt(f"line {number}", partial(guess, value, label, tlp))


def read_csv(text: str, tlp: str | None = None) -> Iterator[Read]:
    """CSV with a header naming ``value`` and optionally ``kind``, ``label``, ``tlp``, ``expires``."""
    reader = csv.DictReader(io.StringIO(text))
    if "value" not in (reader.fieldnames or []):
        yield Skipped("header", "a CSV needs a 'value' column")
        return
    for number, row in enumerate(reader, 2):
        yield _attempt(f"line {number}", partial(_csv_row, row, tlp))


def _csv_row(row: dict[str, str | None], tlp: str | None) -> IndicatorSpec:
    value, label = row.get("value") or "", row.get("label") or ""
    level, expires = row.get("tlp") or tlp, row.get("expires")
    kind = (row.get("kind") or "").strip()
    return check(kind, value, label, level, expires) if kind else guess(value, label, level, expires)


def _attempt(where: str, make: Callable[[], IndicatorSpec]) -> Read:
    try:
        spec = make()
    except BadIndicator as exc:
        return Skipped(where, str(exc))
    return spec


def read_stix(text: str, tlp: str | None = None) -> Iterator[Read]:
    """The indicators of a STIX 2.1 bundle; ``tlp`` applies where an indicator carries no TLP marking."""
    from stix2patterns.pattern import ParseException, Pattern

    bundle = _json_object(text)
    for obj in bundle.get("objects") or []:
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        where = f"indicator {str(obj.get('id'))[:80]}"
        if obj.get("pattern_type", "stix") != "stix":
            yield Skipped(where, f"pattern_type {obj.get('pattern_type')!r} is not stix")
            continue
        try:
            comparisons = Pattern(str(obj.get("pattern", ""))).inspect().comparisons
        except ParseException as exc:
            yield Skipped(where, f"the pattern does not parse: {exc}")
            continue
        label = str(obj.get("name") or obj.get("description") or "")
        level = _stix_tlp(obj) or tlp
        expires = obj.get("valid_until")
        found = False
        for object_type, items in comparisons.items():
            for path, op, literal in items:
                found = True
                yield _attempt(where, partial(_stix_spec, object_type, path, op, literal, label, level, expires))
        if not found:
            yield Skipped(where, "the pattern has no comparison")


def _stix_tlp(obj: dict[str, Any]) -> str | None:
    levels = [STIX_TLP.get(ref) for ref in obj.get("object_marking_refs") or []]
    return tlp_levels.strictest(levels)


def _stix_spec(
    object_type: str, path: list[Any], op: str, literal: str, label: str, level: str | None, expires: Any
) -> IndicatorSpec:
    value = literal[1:-1].replace("\\'", "'").replace("\\\\", "\\") if literal.startswith("'") else literal
    negated = op.startswith("NOT")
    exp = str(expires) if expires else None
    if path == ["number"] and not negated:
        return _stix_number(object_type, op, value, label, level, exp)
    if _resolves_to(object_type, path) and op == "=" and not negated:  # what the name resolves to (MISP domain|ip)
        return guess(value, label, level, exp)
    if path != ["value"] or negated:
        raise BadIndicator(f"{object_type}:{_path_text(path)} {op} is not a value this watchlist matches")
    if object_type == "domain-name":
        if op == "=":
            return check("name", value, label, level, exp)
        if op == "LIKE" and value.startswith("%.") and "%" not in value[2:] and "_" not in value[2:]:
            return check("name", "*." + value[2:], label, level, exp)
        if op == "MATCHES":
            return check("regex", value, label, level, exp)
    if object_type in ("ipv4-addr", "ipv6-addr") and op in ("=", "ISSUBSET"):
        return check("ip", value, label, level, exp)
    raise BadIndicator(f"{object_type}:value {op} is not a comparison this watchlist matches")


def _resolves_to(object_type: str, path: list[Any]) -> bool:
    """``domain-name:resolves_to_refs[*].value`` (or ``[n]``): an address or name the domain resolves to."""
    return object_type == "domain-name" and len(path) == 3 and path[0] == "resolves_to_refs" and path[2] == "value"


def _path_text(path: list[Any]) -> str:
    """An object path as STIX writes it (``hashes.MD5``, ``resolves_to_refs[*].value``)."""
    text = ""
    for step in path:
        if isinstance(step, str):
            text += ("." if text else "") + step
        else:
            text += f"[{step}]" if isinstance(step, int) else "[*]"
    return text


def _stix_number(object_type: str, op: str, literal: str, label: str, level: str | None, exp: str | None
                 ) -> IndicatorSpec:
    if object_type == "autonomous-system" and op == "=":
        return check("asn", literal, label, level, exp)
    raise BadIndicator(f"{object_type}:number {op} is not a comparison this watchlist matches")


def read_misp(text: str, tlp: str | None = None) -> Iterator[Read]:
    """The name and address attributes of a MISP event (JSON, as MISP exports it), objects included."""
    from pymisp import MISPEvent, PyMISPError

    data = _json_object(text)
    event = MISPEvent()
    try:
        event.load(data)
    except (KeyError, TypeError, ValueError, AttributeError, PyMISPError) as exc:
        yield Skipped("event", f"not a MISP event: {exc}")
        return
    level = tlp_levels.strictest([_misp_tlp(t.name) for t in event.tags]) or tlp
    attributes = [*event.attributes, *(a for o in event.objects for a in o.attributes)]
    for attribute in attributes:
        kind = MISP_TYPES.get(attribute.type)
        where = f"attribute {attribute.type} {str(attribute.value)[:60]!r}"
        if kind is None:
            continue
        label = str(getattr(attribute, "comment", "") or getattr(event, "info", "") or "")
        yield from (
            _attempt(where, partial(check, k, v, label, level)) for k, v in _misp_values(kind, str(attribute.value))
        )


def _misp_values(kind: str, value: str) -> Iterable[tuple[str, str]]:
    if kind == "both":
        name, _, addr = value.partition("|")
        return [("name", name), ("ip", addr)]
    return [(kind, value.partition("|")[0])]


def _misp_tlp(tag: str | None) -> str | None:
    try:
        return tlp_levels.parse(tag) if tag and tag.lower().startswith("tlp:") else None
    except tlp_levels.UnknownTlp:
        return None


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadIndicator(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadIndicator("the file must hold one JSON object")
    return data.get("Event", data) if isinstance(data.get("Event"), dict) else data
