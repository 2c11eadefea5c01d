"""IP address literals in what parsers read: whether a text is one, its RR type (A/AAAA) and its canonical form.

The one place parsers read addresses. An address is what ``inet_pton``
accepts (a dotted quad without leading zeros, or an IPv6 address, without a
zone index); its canonical form is ``inet_ntop``'s, the form
``core.rdata.normalize_rdata`` keeps. Formats whose answers carry no type
(Zeek answer vectors, dnsmasq replies, proxy logs) type an address by its
family, and only an address: anything that is not an IP literal gets ``None``
and is never guessed further here.
"""

from __future__ import annotations

import socket
from functools import lru_cache

_inet_pton = socket.inet_pton
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6


def ip_rrtype(text: str) -> str | None:
    """``"A"`` for a dotted-quad IPv4 literal, ``"AAAA"`` for IPv6, else ``None``."""
    try:
        if ":" in text:
            _inet_pton(_AF_INET6, text)
            return "AAAA"
        _inet_pton(_AF_INET, text)
        return "A"
    except (OSError, ValueError, UnicodeError):
        return None


@lru_cache(maxsize=65536)
def ip_address(text: str) -> tuple[str, str] | None:
    """``(rrtype, canonical address)`` when ``text`` is an IP literal, else ``None`` (cached: logs repeat them)."""
    rrtype = ip_rrtype(text)
    if rrtype is None:
        return None
    family = _AF_INET if rrtype == "A" else _AF_INET6
    return rrtype, socket.inet_ntop(family, _inet_pton(family, text))


def canonical_ip(text: str, rrtype: str) -> str | None:
    """The canonical form of ``text`` when it is an address of type ``rrtype`` (A or AAAA), else ``None``."""
    found = ip_address(text)
    return found[1] if found is not None and found[0] == rrtype else None
