"""The query model every backend answers: what to match, filter, fence and page.

Parsing user text into this model (``NameMatch.parse``, ``IpRange.parse``,
``TimeFence.resolve``) lives here so that every API surface reads names,
wildcards, CIDRs, ranges and relative times the same way.
"""

from __future__ import annotations

import base64
import ipaddress
import time
from typing import Generic, Literal, TypeVar

import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidName, InvalidQuery, InvalidRRType
from yapdns.core.model import Evidence
from yapdns.core.names import normalize_name, reverse_name

MatchKind = Literal["exact", "suffix", "prefix"]
T = TypeVar("T")


class NameMatch(msgspec.Struct, frozen=True):
    """An exact name, a left-hand wildcard (``*.example.com``: strict subdomains)
    or a right-hand wildcard (``www.example.*``: names starting with those labels)."""

    kind: MatchKind
    name: str

    @classmethod
    def parse(cls, text: str, *, leading_dot_wildcard: bool = False) -> NameMatch:
        """Read ``*.x``, ``x.*`` or a plain name (``.x`` too, when ``leading_dot_wildcard``)."""
        text = text.strip()
        try:
            if text.startswith("*.") and len(text) > 2:
                return cls("suffix", normalize_name(text[2:]))
            if leading_dot_wildcard and text.startswith(".") and len(text) > 1:
                return cls("suffix", normalize_name(text[1:]))
            if text.endswith(".*") and len(text) > 2:
                return cls("prefix", normalize_name(text[:-2]))
            if "*" in text:
                raise InvalidQuery("a wildcard must be a whole leftmost or rightmost label")
            return cls("exact", normalize_name(text))
        except InvalidName as exc:
            raise InvalidQuery(str(exc)) from None

    def key_range(self) -> tuple[str, str]:
        """The half-open key range [lo, hi) this match covers (reversed keys for exact/suffix)."""
        if self.kind == "prefix":
            return self.name + ".", self.name + "/"
        rev = reverse_name(self.name)
        if self.kind == "exact":
            return rev, rev
        return rev, rev[:-1] + "/"

    def __str__(self) -> str:
        return {"exact": "{}", "suffix": "*.{}", "prefix": "{}.*"}[self.kind].format(self.name)


class IpRange(msgspec.Struct, frozen=True):
    """An inclusive range of 16-byte addresses (IPv4 mapped into ``::ffff:0:0/96``)."""

    lo: bytes
    hi: bytes

    @classmethod
    def parse(cls, text: str) -> IpRange:
        """Read an address, a CIDR (``a/n`` or DNSDB's ``a,n``) or a range ``a-b``."""
        text = text.strip()
        try:
            if "-" in text:
                a, b = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
                if a.version != b.version or int(a) > int(b):
                    raise InvalidQuery("a range needs two addresses of one family, low first")
                return cls(_key(a), _key(b))
            net = ipaddress.ip_network(text.replace(",", "/"), strict=False)
        except ValueError as exc:
            raise InvalidQuery(f"not an IP, CIDR or range: {text[:60]!r}") from exc
        return cls(_key(net.network_address), _key(net.broadcast_address))

    @property
    def is_single(self) -> bool:
        return self.lo == self.hi


def _key(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
    if addr.version == 4:
        return b"\x00" * 10 + b"\xff\xff" + addr.packed
    return addr.packed


def looks_like_ip_query(text: str) -> bool:
    """Whether ``text`` reads as an IP, CIDR or range rather than a name."""
    try:
        IpRange.parse(text)
    except InvalidQuery:
        return False
    return True


class TimeFence(msgspec.Struct, frozen=True):
    """DNSDB's four fences, inclusive, as absolute epoch seconds."""

    first_before: int | None = None
    first_after: int | None = None
    last_before: int | None = None
    last_after: int | None = None

    @classmethod
    def resolve(cls, now: float | None = None, **values: int | None) -> TimeFence:
        """Turn negative values into ``now + value`` (DNSDB's relative form)."""
        current = int(time.time() if now is None else now)
        absolute = {k: (current + v if v is not None and v < 0 else v) for k, v in values.items()}
        return cls(**absolute)

    @property
    def empty(self) -> bool:
        return all(v is None for v in msgspec.structs.astuple(self))


class TypeFilter(msgspec.Struct, frozen=True):
    """Which RR types to return: explicit codes, or DNSDB's ANY / ANY-DNSSEC classes."""

    codes: frozenset[int] | None = None
    dnssec: bool | None = None  # None: any type; False: all but DNSSEC; True: DNSSEC only

    @classmethod
    def parse(cls, text: str | None) -> TypeFilter:
        """Read ``A``, ``TYPE28``, ``28``, ``ANY``, ``ANY-DNSSEC`` or a comma list."""
        if not text:
            return cls()
        upper = text.strip().upper()
        if upper == "ANY":
            return cls(dnssec=False)
        if upper == "ANY-DNSSEC":
            return cls(dnssec=True)
        try:
            return cls(codes=frozenset(rrtypes.rrtype_code(p) for p in upper.split(",") if p))
        except InvalidRRType as exc:
            raise InvalidQuery(str(exc)) from None


class RecordQuery(msgspec.Struct, frozen=True, kw_only=True):
    """One lookup: exactly one key (name, IP range, name in rdata, exact rdata or sample),
    filters, fences and paging."""

    rrname: NameMatch | None = None
    rdata_ip: IpRange | None = None
    rdata_name: NameMatch | None = None
    rdata: str | None = None
    sample: str | None = None
    types: TypeFilter = TypeFilter()
    bailiwick: str | None = None
    sensor: str | None = None
    evidence: Evidence | None = None
    fence: TimeFence = TimeFence()
    limit: int = 100
    offset: int = 0
    cursor: str | None = None

    def __post_init__(self) -> None:
        keys = [self.rrname, self.rdata_ip, self.rdata_name, self.rdata, self.sample]
        if sum(k is not None for k in keys) != 1:
            raise InvalidQuery("a query needs exactly one of rrname, rdata_ip, rdata_name, rdata or sample")
        if self.limit < 1:
            raise InvalidQuery("limit must be at least 1")
        if self.offset < 0:
            raise InvalidQuery("offset must not be negative")


class Page(msgspec.Struct, Generic[T]):
    """One page of results in a stable order.

    ``limited`` is true when more rows match than were returned; then
    ``next_cursor`` resumes right after the last row.
    """

    rows: list[T]
    next_cursor: str | None = None
    limited: bool = False


def encode_cursor(values: tuple[object, ...]) -> str:
    """An opaque, URL-safe cursor for a row's ordering key."""
    return base64.urlsafe_b64encode(msgspec.msgpack.encode(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[object, ...]:
    """Invert ``encode_cursor``; raise ``InvalidQuery`` on tampering."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.msgpack.decode(raw)
    except (ValueError, msgspec.DecodeError) as exc:
        raise InvalidQuery("invalid cursor") from exc
    if not isinstance(values, list) or not values:
        raise InvalidQuery("invalid cursor")
    return tuple(values)
