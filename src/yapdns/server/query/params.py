"""Reading query-string parameters into the store's query model, with clear 400 messages."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from django.conf import settings

from yapdns.core.errors import InvalidQuery, InvalidRdata, InvalidRRType
from yapdns.core.model import Evidence
from yapdns.core.rdata import normalize_rdata
from yapdns.core.rrtypes import rrtype_code, rrtype_text
from yapdns.storage.context import ContextFilter
from yapdns.storage.query import (
    IpRange,
    NameMatch,
    RecordQuery,
    TimeFence,
    TypeFilter,
    looks_like_ip_query,
    parse_fences,
    parse_integer,
)

KEYS = ("q", "rrname", "ip", "rdata_name", "rdata", "sample")
CONTEXT_KEYS = ("asn", "cc", "prefix")
DEFAULT_LIMIT = 100


def integer(
    params: Mapping[str, str], name: str, default: int | None = None, *, minimum: int | None = None
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise InvalidQuery(f"{name} must be an integer")
    return parse_integer(name, value, minimum)


def fence(params: Mapping[str, str]) -> TimeFence:
    """The four DNSDB fences; negative values are relative to now."""
    return parse_fences(params)


def limit(params: Mapping[str, str], default: int = DEFAULT_LIMIT, cap: int | None = None) -> int:
    value = integer(params, "limit", default, minimum=0)
    assert value is not None
    top = cap or settings.RESULTS_MAX
    return top if value == 0 else min(value, top)


def evidence(params: Mapping[str, str]) -> Evidence | None:
    value = params.get("evidence")
    if not value:
        return None
    try:
        return Evidence(value)
    except ValueError:
        raise InvalidQuery(f"evidence must be one of {', '.join(e.value for e in Evidence)}") from None


def context_filter(params: Mapping[str, str]) -> ContextFilter | None:
    """``asn`` (``13335`` or ``AS13335``), ``cc`` (ISO country code) and ``prefix`` (a routed prefix), if any."""
    asn, cc, prefix = (params.get(k) or "" for k in CONTEXT_KEYS)
    if not (asn or cc or prefix):
        return None
    number = None
    if asn:
        text = asn.strip()
        number = parse_integer("asn", text[2:] if text[:2].upper() == "AS" else text, 0, 2**32 - 1)
    country = cc.strip().upper() or None
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise InvalidQuery(f"cc must be a two-letter country code, got {cc[:20]!r}")
    network = None
    if prefix:
        try:
            network = str(ipaddress.ip_network(prefix.strip(), strict=False))
        except ValueError:
            raise InvalidQuery(f"prefix must be a network such as 192.0.2.0/24, got {prefix[:60]!r}") from None
    return ContextFilter(asn=number, country=country, prefix=network)


def record_query(params: Mapping[str, str], default_limit: int = DEFAULT_LIMIT, cap: int | None = None) -> RecordQuery:
    """One RecordQuery from ``q`` (auto: IP/CIDR/range or name/wildcard) or one explicit key, and/or the address
    context filters (``asn``, ``cc``, ``prefix``), which may also stand alone."""
    context = context_filter(params)
    given = [k for k in KEYS if params.get(k)]
    if len(given) != 1 and not (context is not None and not given):
        raise InvalidQuery(f"give exactly one of: {', '.join(KEYS)} (or only asn, cc or prefix)")
    types = TypeFilter.parse(params.get("type") or params.get("rrtype"))
    common = {
        "context": context,
        "types": types,
        "sensor": params.get("sensor") or None,
        "evidence": evidence(params),
        "fence": fence(params),
        "limit": limit(params, default_limit, cap),
        "cursor": params.get("cursor") or None,
    }
    if not given:
        return RecordQuery(**common)  # type: ignore[arg-type]
    key, value = given[0], params[given[0]]
    if key == "q":
        key = "ip" if looks_like_ip_query(value) else "rrname"
    if key == "ip":
        return RecordQuery(rdata_ip=IpRange.parse(value), **common)  # type: ignore[arg-type]
    if key == "rrname":
        return RecordQuery(rrname=NameMatch.parse(value), **common)  # type: ignore[arg-type]
    if key == "rdata_name":
        return RecordQuery(rdata_name=NameMatch.parse(value, leading_dot_wildcard=True), **common)  # type: ignore[arg-type]
    if key == "sample":
        return RecordQuery(sample=value.strip().lower(), **common)  # type: ignore[arg-type]
    return RecordQuery(rdata=_exact_rdata(value, types), **common)  # type: ignore[arg-type]


def _exact_rdata(value: str, types: TypeFilter) -> str:
    if not types.codes or len(types.codes) != 1:
        raise InvalidQuery("an exact rdata search needs exactly one type, e.g. type=TXT")
    try:
        return normalize_rdata(next(iter(types.codes)), value)
    except InvalidRdata as exc:
        raise InvalidQuery(str(exc)) from None


def record_key(params: Mapping[str, str]) -> tuple[str, str, str]:
    """``rrname``, ``rrtype`` and ``rdata`` naming one record, normalized."""
    missing = [k for k in ("rrname", "rrtype", "rdata") if not params.get(k)]
    if missing:
        raise InvalidQuery(f"missing parameter(s): {', '.join(missing)}")
    match = NameMatch.parse(params["rrname"])
    if match.kind != "exact":
        raise InvalidQuery("rrname must be an exact name here")
    try:
        code = rrtype_code(params["rrtype"])
        return match.name, rrtype_text(code), normalize_rdata(code, params["rdata"])
    except (InvalidRdata, InvalidRRType) as exc:
        raise InvalidQuery(str(exc)) from None
