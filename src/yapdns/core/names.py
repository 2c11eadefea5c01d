"""DNS names in their one canonical form, and the keys derived from them.

Canonical form (docs/architecture.md §1): ASCII-lowercase, IDNA A-labels (UTS #46,
non-transitional), no trailing dot, RFC 1035 presentation escapes for odd
bytes; the root name is ``"."``. ``normalize_name`` is idempotent: applying
it to its own output returns the same string.
"""

from __future__ import annotations

import re
from functools import lru_cache

import dns.exception
import dns.name

from yapdns.core.errors import InvalidName

_SIMPLE_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
_MAX_TEXT = 1024  # a presentation name can be at most ~1000 chars with escapes
_IDNA = dns.name.IDNA_2008_UTS_46


@lru_cache(maxsize=262144)
def normalize_name(text: str) -> str:
    """Return the canonical form of ``text``, or raise ``InvalidName``."""
    if type(text) is str and len(text) <= 253 and _SIMPLE_NAME.fullmatch(text):
        return text  # fast path: canonical already (lowercase LDH, no trailing dot); equals the full path
    return _normalize_name_full(text)


def is_simple_name(text: object) -> bool:
    """Whether ``text`` takes ``normalize_name``'s fast path: a plain ``str`` it returns as it is."""
    return type(text) is str and len(text) <= 253 and _SIMPLE_NAME.fullmatch(text) is not None


def _normalize_name_full(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidName(f"name must be a string, not {type(text).__name__}")
    if not text:
        raise InvalidName("empty name")
    if len(text) > _MAX_TEXT:
        raise InvalidName("name is too long")
    if text == ".":
        return "."
    low = text.lower() if text.isascii() else text
    if low.endswith(".") and "\\" not in low:
        low = low[:-1]
    if len(low) <= 253 and _SIMPLE_NAME.fullmatch(low):
        return low
    return _to_text(_parse(text))


def _parse(text: str) -> dns.name.Name:
    try:
        if text.isascii():
            return dns.name.from_text(text, origin=dns.name.root)
        try:
            return dns.name.from_unicode(text, origin=dns.name.root, idna_codec=_IDNA)
        except (dns.name.IDNAException, UnicodeError):
            return _from_raw_labels(text)
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise InvalidName(f"invalid name {text[:80]!r}: {exc}") from exc


def _from_raw_labels(text: str) -> dns.name.Name:
    """Keep a non-IDNA Unicode name as its UTF-8 bytes (escaped on output)."""
    return dns.name.Name([*(_raw_bytes(label) for label in text.rstrip(".").split(".")), b""])


def _raw_bytes(label: str) -> bytes:
    """A label's bytes: undecodable input bytes come back as they were (surrogateescape); any other lone
    surrogate is kept as its UTF-8-style encoding, so nothing raises."""
    try:
        return label.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return label.encode("utf-8", "surrogatepass")


def _to_text(name: dns.name.Name) -> str:
    canonical = name.canonicalize()
    if canonical == dns.name.root:
        return "."
    return canonical.to_text(omit_final_dot=True)


def split_labels(name: str) -> list[str]:
    """Split a canonical name into its (still escaped) labels."""
    if name == ".":
        return []
    if "\\" not in name:
        return name.split(".")
    parsed = dns.name.from_text(name, origin=dns.name.root)
    return [dns.name.Name([label]).to_text(omit_final_dot=True) for label in parsed.labels[:-1]]


@lru_cache(maxsize=262144)
def reverse_name(name: str) -> str:
    """The reversed-label key of a canonical name: ``www.example.com`` → ``com.example.www.``.

    Every subdomain's key starts with its parent's key, so a left-hand
    wildcard is a prefix range on this key.
    """
    return ".".join(reversed(split_labels(name))) + "." if name != "." else "."


def unreverse_name(key: str) -> str:
    """Invert ``reverse_name``."""
    if key == ".":
        return "."
    if "\\" not in key:
        return ".".join(reversed(key[:-1].split(".")))
    parsed = dns.name.from_text(key, origin=dns.name.root)
    labels = [dns.name.Name([label]).to_text(omit_final_dot=True) for label in parsed.labels[:-1]]
    return ".".join(reversed(labels))


def to_unicode(name: str) -> str:
    """The U-label form of a canonical name, for display only."""
    if "xn--" not in name:
        return name
    try:
        return dns.name.from_text(name, origin=dns.name.root).to_unicode(
            omit_final_dot=True, idna_codec=_IDNA
        )
    except (dns.exception.DNSException, UnicodeError):
        return name


def fqdn(name: str) -> str:
    """The canonical name with its trailing dot, as DNSDB prints it."""
    return name if name == "." else name + "."
