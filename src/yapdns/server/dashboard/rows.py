"""The rows of the records table, rendered in Python with ``format_html`` (every value escaped).

A results page has up to 500 rows of seven cells, each a name, a record or a time through a helper of
``display.py``; through the template engine that costs most of a page's time, built here it costs a few
milliseconds. The markup is what ``partials/records_table.html`` shows around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.utils.html import format_html
from django.utils.safestring import SafeString

from yapdns.core.model import Record
from yapdns.server.dashboard import display

_ROW = (
    '<tr><td class="c-name">{}{}{}</td><td><span class="badge t-{}">{}</span></td><td class="c-rdata">{}{}{}{}</td>'
    '<td class="c-time">{}{}</td><td class="c-time">{}</td><td class="num">{}</td><td class="narrow">'
    '<a class="detail-link" href="{}?{}" title="Record detail and sensors">Detail</a></td></tr>'
)
EMPTY = SafeString('<tr><td colspan="7" class="empty">No records.</td></tr>')


@lru_cache(maxsize=1)
def _record_page() -> str:
    from django.urls import reverse

    return reverse("dashboard:record")


def record_row_html(r: Record, name_tags: list[str], ip_tags: list[str], context: Any = None) -> SafeString:
    """One record as a table row: name, type, rdata (with its AS/country context when known, copy buttons and
    tags), first and last seen, count."""
    return format_html(
        _ROW,
        display.name_html(r.rrname), display.copy_html(r.rrname), display.tag_chips_html(name_tags),
        r.rrtype, r.rrtype,
        display.rdata_html(r.rrtype, r.rdata), display.context_html(context) if context else "",
        display.copy_html(r.rdata), display.tag_chips_html(ip_tags),
        display.when_html(r.time_first), display.zone_badge_html() if r.zone_only else "",
        display.when_html(r.time_last), r.count,
        _record_page(), urlencode({"rrname": r.rrname, "rrtype": r.rrtype, "rdata": r.rdata}),
    )


def record_rows_html(
    records: Iterable[Record], name_tags: Mapping[str, list[str]], ip_tags: Mapping[str, list[str]],
    contexts: Mapping[tuple[str, str, str], Any] | None = None,
) -> SafeString:
    """Every row, or the empty-table row; ``contexts`` from ``enrichment.services.record_contexts``."""
    found = contexts or {}
    rows = [
        record_row_html(
            r, name_tags.get(r.rrname, []), ip_tags.get(r.rdata, []), found.get((r.rrname, r.rrtype, r.rdata))
        )
        for r in records
    ]
    return SafeString("\n".join(rows)) if rows else EMPTY
