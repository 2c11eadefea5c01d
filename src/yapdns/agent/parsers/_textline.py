"""Telling a line that is not for us from a line that is not text at all.

Text-log parsers skip lines of their log that carry no DNS evidence (start-up
banners, statistics, other categories). Binary junk, NUL bytes and invalid
UTF-8 (decoded with ``surrogateescape`` by the runner) are not such lines:
``reject_binary`` raises ``ParseError`` (code ``binary``) for them, so they
are counted and sampled. The check costs one ``str.isprintable`` call on
ordinary lines.
"""

from __future__ import annotations

import re

from yapdns.agent.parsers.base import ParseError

_JUNK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff\ufffd]")


def reject_binary(line: str) -> None:
    """Raise ``ParseError`` if ``line`` holds control characters or undecodable bytes."""
    if line.isprintable() and "\ufffd" not in line:
        return
    junk = _JUNK.search(line)
    if junk:
        raise ParseError(f"binary or non-UTF-8 data at column {junk.start() + 1}", code="binary")
