"""The RR type implied by an address literal: A for IPv4, AAAA for IPv6.

Formats whose answers carry no type (Zeek answer vectors, dnsmasq replies,
proxy logs) type an address by its family, and only an address: anything
that is not an IP literal gets ``None`` and is never guessed further here.
"""

from __future__ import annotations

import socket

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
