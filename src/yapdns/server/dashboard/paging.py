"""Previous/next paging and totals for the search page.

Two kinds of pages:

* **store order** (no sort, or a sort the store's key order already gives): cursor pages. The URL keeps the
  trail of the cursors that led here (``prev``, dot-separated, the first page as ``-``), so *Previous*
  goes back one page without counting or re-reading anything; a trail longer than ``TRAIL_MAX`` pages drops its
  oldest entries (then *Previous* stops at the oldest page kept, and *First page* is always there);
* **ranked** (by count, first seen or last seen over the whole result, ``Store.ranked_records``): numbered pages,
  offset ``(page - 1) * size``, within the summary's scan bound.

The total comes from ``Store.summarize``: exact, or "at least" when the summary's scan bound was reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict

from yapdns.core.errors import InvalidQuery

FIRST = "-"  # the first page in a trail (no cursor is this short)
TRAIL_MAX = 50
TRAIL_TEXT_MAX = 16_000
PAGE_MAX = 100_000


@dataclass
class Pager:
    """What the pager shows: which rows of how many, and the links around them."""

    first_row: int
    last_row: int
    total: int
    exact: bool
    number: int
    prev_url: str | None = None
    next_url: str | None = None
    first_url: str | None = None


def url_with(get: QueryDict, **changes: str | None) -> str:
    """The current query string with ``changes`` applied (``None`` or ``""`` removes a key)."""
    params = get.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def page_number(get: QueryDict) -> int:
    """The ``page`` parameter (1 when absent); anything but 1..``PAGE_MAX`` in ASCII digits is refused."""
    text = get.get("page") or "1"
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= PAGE_MAX:
        raise InvalidQuery(f"page must be a number from 1 to {PAGE_MAX}, got {text[:20]!r}")
    return int(text)


def trail(get: QueryDict) -> list[str]:
    """The cursors of the pages before this one (``prev``), oldest first; the first page is ``FIRST``."""
    text = get.get("prev")
    if text is None:
        return []
    if len(text) > TRAIL_TEXT_MAX or not all(c.isalnum() or c in "-_." for c in text) or not text.isascii():
        raise InvalidQuery("invalid page trail: follow the pager's links")
    return text.split(".")


def _rows(number: int, size: int, shown: int, total: int, exact: bool) -> Pager:
    first = (number - 1) * size + 1 if shown else 0
    return Pager(first, first + shown - 1 if shown else 0, total, exact, number)


def cursor_pager(get: QueryDict, size: int, shown: int, next_cursor: str | None, total: tuple[int, bool]) -> Pager:
    """Links for a store-order page reached by ``cursor`` after the pages of ``prev``; ``total`` is
    ``(records, exact)``."""
    before = trail(get)
    number = page_number(get)
    here = get.get("cursor") or FIRST
    pager = _rows(number, size, shown, *total)
    if next_cursor:
        pager.next_url = url_with(get, cursor=next_cursor, prev=".".join([*before, here][-TRAIL_MAX:]),
                                  page=str(number + 1))
    if before:
        back = None if before[-1] == FIRST else before[-1]
        pager.prev_url = url_with(get, cursor=back, prev=".".join(before[:-1]) or None,
                                  page=str(number - 1) if number > 2 else None)
    if here != FIRST:
        pager.first_url = url_with(get, cursor=None, prev=None, page=None)
    return pager


def ranked_pager(get: QueryDict, size: int, shown: int, more: bool, total: tuple[int, bool]) -> Pager:
    """Links for a numbered page of a whole-result sort."""
    number = page_number(get)
    pager = _rows(number, size, shown, *total)
    if more:
        pager.next_url = url_with(get, page=str(number + 1), cursor=None, prev=None)
    if number > 1:
        pager.prev_url = url_with(get, page=str(number - 1) if number > 2 else None, cursor=None, prev=None)
        pager.first_url = url_with(get, page=None, cursor=None, prev=None)
    return pager
