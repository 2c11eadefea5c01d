"""The bulk search page: paste up to 1,000 indicators (defanged forms too), get one table of what the store knows
about each, the unknown ones listed, and the answers as CSV, JSON or COF.

The terms run through ``query.bulk.run_bulk``, the code ``POST /api/v1/bulk`` runs, with its bounds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from yapdns.core import cof
from yapdns.core.errors import InvalidQuery
from yapdns.server.dashboard import history
from yapdns.server.dashboard.display import visible, when_html
from yapdns.server.dashboard.indicators import MAX_INDICATORS, Indicator, parse_indicators
from yapdns.server.dashboard.views.common import charge_session, store
from yapdns.server.limits import RequestLimits
from yapdns.server.query import params
from yapdns.server.query.bulk import BulkAnswer, run_bulk
from yapdns.server.security import methods
from yapdns.storage.base import RecordSummary
from yapdns.storage.query import looks_like_ip_query

PER_INDICATOR = 100
FORMATS = ("csv", "json", "cof")
SUMMARIZED_MAX = 50  # addresses with more than PER_INDICATOR records whose figures come from Store.summarize
SUMMARY_SCAN = 2_000


@dataclass
class IndicatorRow:
    """What the store knows about one indicator, summed over the records the bulk lookup returned."""

    indicator: Indicator
    answer: BulkAnswer
    summary: RecordSummary | None = None  # the whole result's figures, for an indicator with more records

    @property
    def known(self) -> bool:
        return bool(self.answer.records)

    @property
    def records(self) -> int:
        return self.summary.records if self.summary else len(self.answer.records)

    @property
    def more(self) -> bool:
        """Whether more records match than the figures count."""
        return self.summary.limited if self.summary else self.answer.limited

    @property
    def types(self) -> list[str]:
        if self.summary:
            return sorted(t.rrtype for t in self.summary.by_type)
        return sorted({r.rrtype for r in self.answer.records})

    @property
    def time_first(self) -> int | None:
        if self.summary and self.summary.time_first is not None:
            return self.summary.time_first
        return min((r.time_first for r in self.answer.records), default=None)

    @property
    def time_last(self) -> int | None:
        if self.summary and self.summary.time_last is not None:
            return self.summary.time_last
        return max((r.time_last for r in self.answer.records), default=None)

    @property
    def count(self) -> int:
        return self.summary.count if self.summary else sum(r.count for r in self.answer.records)

    @property
    def seen_with(self) -> list[str]:
        """A few names (for an address or network) or rdata (for a name) of its records."""
        field = "rrname" if looks_like_ip_query(self.answer.term) else "rdata"
        return sorted({getattr(r, field) for r in self.answer.records})[:3]


STATUS = {"error": ("st-error", "not a query"), "known": ("st-ok", "known"), "unknown": ("st-never-seen", "unknown")}


def row_html(row: IndicatorRow, search_url: str) -> SafeString:
    """One table row, built with ``format_html`` (escaped): a thousand rows through the template engine cost
    seconds, this costs milliseconds."""
    term = row.answer.term
    state = "error" if row.answer.error else "known" if row.known else "unknown"
    css, label = STATUS[state]
    pasted = format_html('<div class="muted small">pasted <bdi>{}</bdi></div>', visible(row.indicator.pasted)) \
        if row.indicator.pasted != term else ""
    figures: SafeString | str = ""
    if row.known:
        figures = format_html(
            '<td class="c-time">{}</td><td class="c-time">{}</td><td class="num">{}</td>',
            when_html(row.time_first), when_html(row.time_last), f"{row.count:,}",
        )
    else:
        figures = SafeString('<td class="c-time"></td><td class="c-time"></td><td class="num"></td>')
    return format_html(
        '<tr class="{}" data-term="{}"><td class="mono"><a href="{}?{}"><bdi>{}</bdi></a>{}</td>'
        '<td><span class="status {}" title="{}">{}</span></td><td class="num">{}{}</td><td>{}</td>'
        '<td class="c-name">{}</td>{}</tr>',
        "known" if row.known else "unknown", term, search_url, urlencode({"q": term}), visible(term), pasted,
        css, row.answer.error or label, label, f"{row.records:,}", "+" if row.more else "",
        format_html_join(" ", '<span class="badge t-{}">{}</span>', ((t, t) for t in row.types)),
        format_html_join(", ", "<bdi>{}</bdi>", ((visible(v),) for v in row.seen_with)), figures,
    )


@methods("GET", "POST")
def bulk_page(request: HttpRequest) -> HttpResponseBase:
    """``/bulk``: the form (GET); its answers as a table or an export (POST, CSRF-checked)."""
    context: dict[str, object] = {"max_indicators": MAX_INDICATORS, "text": "", "formats": FORMATS}
    if request.method == "GET":
        return render(request, "dashboard/bulk.html", context)
    text = request.POST.get("indicators", "")
    fmt = request.POST.get("format") or ""
    context["text"] = text
    try:
        if fmt and fmt not in FORMATS:
            raise InvalidQuery(f"format must be one of {', '.join(FORMATS)}")
        indicators = parse_indicators(text)
        if not indicators:
            raise InvalidQuery("paste at least one name, address or CIDR")
    except InvalidQuery as exc:
        context["error"] = str(exc)
        return render(request, "dashboard/bulk.html", context, status=400)
    refused = charge_session(request, len(indicators))  # each indicator is one query, as in the bulk API
    if refused:
        return refused
    rows = lookup(indicators)
    if fmt:
        return export(rows, fmt)
    search_url = reverse("dashboard:search")
    context.update(
        rows=rows,
        rows_html=SafeString("\n".join(row_html(r, search_url) for r in rows)),
        unknown=[r for r in rows if not r.known],
        known=sum(1 for r in rows if r.known),
    )
    return render(request, "dashboard/bulk.html", context)


def lookup(indicators: list[Indicator]) -> list[IndicatorRow]:
    """Run every indicator through the bulk lookup (``PER_INDICATOR`` records each, the API's bounds); the first
    names with more records get their exact figures from the per-name rollup, the first ``SUMMARIZED_MAX`` others
    (addresses, CIDRs) whole-result figures from ``Store.summarize`` (bounded)."""
    limits = RequestLimits.from_settings()
    answers = run_bulk(store(), [i.term for i in indicators], {"limit": str(PER_INDICATOR)}, limits.bulk_rows,
                       limits.budget())
    rows = [IndicatorRow(i, a) for i, a in zip(indicators, answers, strict=True)]
    scanned = 0
    for row in (r for r in rows if r.answer.limited):
        query = params.record_query({"q": row.answer.term})
        target = history.rollup_target(query)
        if target is not None:  # a name: exact from the per-name rollup, whatever its size
            rolled = store().name_rollup(target[0], below=target[1], top=0, seen_by=False)
            row.summary = history.rollup_summary(rolled)
        elif scanned < SUMMARIZED_MAX:
            scanned += 1
            row.summary = store().summarize(query, scan_max=SUMMARY_SCAN, top=0, sightings=False)
    return rows


def export(rows: list[IndicatorRow], fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The answers as a download: CSV (a ``query`` column first), the API's bulk NDJSON, or COF NDJSON."""
    if fmt == "csv":
        body: Iterable[bytes | str] = _csv(rows)
        kind = "text/csv; charset=utf-8"
    elif fmt == "json":
        body, kind = cof.ndjson_lines(_bulk_objects(rows)), "application/x-ndjson"
    else:
        body = cof.ndjson_lines(cof.to_cof(r) for row in rows for r in row.answer.records)
        kind = "application/x-ndjson"
    response = StreamingHttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="yapdns-bulk.{fmt if fmt != "json" else "ndjson"}"'
    return response


def _bulk_objects(rows: list[IndicatorRow]) -> Iterator[dict[str, object]]:
    """The lines ``POST /api/v1/bulk`` answers, plus the pasted text of each indicator."""
    for row in rows:
        head = {"query": row.answer.term, "pasted": row.indicator.pasted}
        for rec in row.answer.records:
            yield {**head, **cof.to_json(rec)}
        end = {"error": row.answer.error} if row.answer.error else {"limited": row.answer.limited}
        yield {**head, "done": True, "known": row.known, **end}


def _csv(rows: list[IndicatorRow]) -> Iterator[str]:
    """One line per record with the indicator first; an unknown indicator gets a line of its own."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["query", *cof.CSV_FIELDS])
    for row in rows:
        term = cof.csv_safe(row.answer.term)
        for rec in row.answer.records:
            writer.writerow([term, *cof.csv_cells(rec)])
        if not row.answer.records:
            writer.writerow([term])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
