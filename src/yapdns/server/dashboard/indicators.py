"""Pasted indicators for the bulk search: defanged forms undone, URLs cut to their host, duplicates dropped.

Threat reports write indicators so that they cannot be clicked: ``hxxp://evil[.]com/x``, ``1.2.3[.]4``,
``evil(.)com``, ``evil[dot]com``, ``2001:db8[:]1``. ``parse_indicators`` splits pasted text on whitespace,
commas and semicolons, undoes those forms, keeps the host of a URL (``user@host:port/path`` too) and returns the
distinct terms in the order pasted, each with the text it came from. It does not validate a term: the bulk
query refuses what is not a name, an address or a CIDR, and the page lists it with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from yapdns.core.errors import InvalidQuery

MAX_INDICATORS = 1000
MAX_TEXT = 256 * 1024
_SPLIT = re.compile(r"[\s,;]+")
_DOTS = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[\.|\.\]", re.IGNORECASE)
_COLONS = re.compile(r"\[:\]|\(:\)")
_AT = re.compile(r"\[@\]|\(@\)|\[at\]|\(at\)", re.IGNORECASE)
_SCHEME = re.compile(r"^(?:hxxps?|hxxp|fxps?|ftp|https?|meows?)(?:\[:\]|:)?(?:\[?//\]?)", re.IGNORECASE)
_WRAPPING = "<>\"'`()[]{}"


@dataclass(frozen=True)
class Indicator:
    """One distinct term to look up, and the text it was read from."""

    term: str
    pasted: str


def refang(text: str) -> str:
    """Undo the usual defanging of one indicator and cut a URL or e-mail address to its host."""
    value = _AT.sub("@", _COLONS.sub(":", _DOTS.sub(".", text.strip().strip(_WRAPPING))))
    if _SCHEME.match(value):
        value = _SCHEME.sub("", value, count=1)
        value = urlsplit("//" + value).hostname or value  # hostname drops user@, :port, /path; unwraps [v6]
    elif "@" in value:
        value = value.rsplit("@", 1)[1]
    return value.strip(_WRAPPING).rstrip(".").lower() if not _is_cidr(value) else value


def _is_cidr(value: str) -> bool:
    head, sep, bits = value.partition("/")
    return bool(sep) and bits.isdigit() and (":" in head or head.replace(".", "").isdigit())


def parse_indicators(text: str) -> list[Indicator]:
    """The distinct indicators in pasted ``text``; ``InvalidQuery`` past ``MAX_INDICATORS`` or ``MAX_TEXT``."""
    if len(text) > MAX_TEXT:
        raise InvalidQuery(f"paste at most {MAX_TEXT // 1024} KiB of indicators")
    seen: dict[str, Indicator] = {}
    for chunk in _SPLIT.split(text):
        if not chunk.strip(_WRAPPING):
            continue
        term = refang(chunk)
        if term and term not in seen:
            seen[term] = Indicator(term, chunk)
            if len(seen) > MAX_INDICATORS:
                raise InvalidQuery(f"paste at most {MAX_INDICATORS} distinct indicators at a time")
    return list(seen.values())
