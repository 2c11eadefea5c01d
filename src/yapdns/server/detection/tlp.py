"""Traffic Light Protocol markings: the one list of levels, and their STIX and MISP forms.

A watchlist entry carries one level; whatever is exported because of it
(an alert, its record) carries the same level. The levels are TLP 1.0's,
which STIX 2.1 defines as marking definitions (``stix2.TLP_*``) and MISP
as the ``tlp:`` taxonomy's tags; ``clear`` (TLP 2.0) is accepted as
``white``.
"""

from __future__ import annotations

LEVELS = ("white", "green", "amber", "red")
ALIASES = {"clear": "white"}


class UnknownTlp(ValueError):
    """The TLP level is not one of white (clear), green, amber, red."""


def parse(text: str | None) -> str | None:
    """A level from user input (``TLP:AMBER``, ``amber``, ``clear``), or None when none was given."""
    if text is None or not text.strip():
        return None
    level = text.strip().lower().removeprefix("tlp:")
    level = ALIASES.get(level, level)
    if level not in LEVELS:
        raise UnknownTlp(f"tlp must be one of {', '.join(LEVELS)} (or clear), not {text!r}")
    return level


def strictest(levels: list[str | None]) -> str | None:
    """The most restrictive of several levels (an export of several entries' matches)."""
    known = [lv for lv in levels if lv]
    return max(known, key=LEVELS.index) if known else None


def misp_tag(level: str) -> str:
    """The MISP taxonomy tag of a level."""
    return f"tlp:{level}"
