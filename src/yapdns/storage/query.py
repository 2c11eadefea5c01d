"""The query model every backend answers: what to match, filter, fence and page.

Parsing user text into this model (``NameMatch.parse``, ``IpRange.parse``,
``TimeFence.resolve``, ``parse_integer``) lives here so that every API
surface reads names, wildcards, CIDRs, ranges, integers and relative times
the same way, and refuses the same hostile values with ``InvalidQuery``:
integers are ASCII digits only (``int()`` also takes "٣" and "1_0") and
fences stay within ``FENCE_MAX``, so nothing past 64 bits reaches a
database driver.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import time
from collections.abc import Mapping
from typing import Generic, Literal, TypeVar

import msgspec

from yapdns.core import rrtypes
from yapdns.core.errors import InvalidName, InvalidQuery, InvalidRRType
from yapdns.core.model import Evidence
from yapdns.core.names import normalize_name, reverse_name
from yapdns.storage.context import ContextFilter

MatchKind = Literal["exact", "suffix", "prefix"]
T = TypeVar("T")
FENCE_MAX = 2**62  # |fence| in seconds; now + a relative fence stays far inside 64 bits
CURSOR_TEXT_MAX = 4096  # characters of one text value in a cursor (names and rdata are far shorter)
_INTEGER = re.compile(r"-?[0-9]{1,40}")


def parse_integer(name: str, text: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``text`` as an integer of ASCII digits (an optional leading ``-``) within the bounds given."""
    value = text.strip()
    if not _INTEGER.fullmatch(value):
        raise InvalidQuery(f"{name} must be an integer written in ASCII digits, got {value[:40]!r}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else f" from {minimum}"
        high = "" if maximum is None else f" to {maximum}"
        raise InvalidQuery(f"{name} must be an integer{low}{high}, got {value[:40]}")
    return number


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
        """Turn negative values into ``now + value`` (DNSDB's relative form); each within ``FENCE_MAX``."""
        for name, value in values.items():
            if value is not None and not -FENCE_MAX <= value <= FENCE_MAX:
                raise InvalidQuery(f"time_{name} must be an integer from {-FENCE_MAX} to {FENCE_MAX}")
        current = int(time.time() if now is None else now)
        absolute = {k: (current + v if v is not None and v < 0 else v) for k, v in values.items()}
        return cls(**absolute)

    @property
    def empty(self) -> bool:
        return all(v is None for v in msgspec.structs.astuple(self))


FENCE_PARAMS = ("time_first_before", "time_first_after", "time_last_before", "time_last_after")


def parse_fences(params: Mapping[str, str], now: float | None = None) -> TimeFence:
    """DNSDB's four fence parameters (absent or empty: no fence), each within ``FENCE_MAX``."""
    values: dict[str, int | None] = {}
    for name in FENCE_PARAMS:
        text = params.get(name) or ""
        given = text.strip() != ""
        values[name.removeprefix("time_")] = parse_integer(name, text, -FENCE_MAX, FENCE_MAX) if given else None
    return TimeFence.resolve(now, **values)


class TypeFilter(msgspec.Struct, frozen=True):
    """Which RR types to return: explicit codes, or DNSDB's ANY / ANY-DNSSEC classes."""

    codes: frozenset[int] | None = None
    dnssec: bool | None = None  # None: any type; False: all but DNSSEC; True: DNSSEC only

    @classmethod
    def parse(cls, text: str | None) -> TypeFilter:
        """Read ``A``, ``TYPE28``, ``28``, ``ANY``, ``ANY-DNSSEC`` or a comma list."""
        if not text:
            return cls()
        if not text.isascii():  # "\u017foa".upper() is "SOA"
            raise InvalidQuery(f"unknown rrtype {text[:40]!r}: only ASCII letters and digits spell a type")
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
    """One lookup: exactly one key (name, IP range, name in rdata, exact rdata or sample; or, with none of
    them, an address context filter), filters, fences and paging."""

    rrname: NameMatch | None = None
    rdata_ip: IpRange | None = None
    rdata_name: NameMatch | None = None
    rdata: str | None = None
    sample: str | None = None
    context: ContextFilter | None = None  # a filter, or the key when no other key is given
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
        given = sum(k is not None for k in keys)
        if given != 1 and not (given == 0 and self.context is not None):
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


CursorValue = str | int | bytes


def decode_cursor(cursor: str) -> tuple[CursorValue, ...]:
    """Invert ``encode_cursor``; raise ``InvalidQuery`` on tampering.

    Only a non-empty list of texts (no NUL, at most ``CURSOR_TEXT_MAX``
    characters), 64-bit integers and short byte strings passes; the SQL
    layer then checks each value against its ordering column.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.msgpack.decode(raw)
    except (ValueError, msgspec.DecodeError, RecursionError) as exc:
        raise InvalidQuery("invalid cursor: pass a next_cursor this server sent") from exc
    if not isinstance(values, list) or not values or not all(_plain_cursor_value(v) for v in values):
        raise InvalidQuery("invalid cursor: pass a next_cursor this server sent")
    return tuple(values)


def _plain_cursor_value(value: object) -> bool:
    if type(value) is int:
        return -(2**63) <= value < 2**63
    if type(value) is str:
        return len(value) <= CURSOR_TEXT_MAX and "\x00" not in value
    return type(value) is bytes and len(value) <= 16
