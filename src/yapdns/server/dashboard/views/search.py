"""The search page: one box, filters, presets, whole-result totals and sorts, previous/next pages, a summary
view, and export links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence, Record
from yapdns.server.dashboard import history, paging, search, tagging, timeline
from yapdns.server.dashboard.dnsdbq import dnsdbq_command
from yapdns.server.dashboard.views.common import charge_session, store
from yapdns.server.enrichment import services as enrichment
from yapdns.storage.base import RecordSummary
from yapdns.storage.query import RecordQuery

COMMON_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA", "PTR", "SRV", "HTTPS", "SVCB", "CAA", "DS", "DNSKEY")
SCAN_MAX = 10_000  # records a search's summary and whole-result sort read at most (then they say so)
COUNT_MAX = 10_000  # records a search's total counts at most, from the key's index
VIEWS = ("records", "summary")
BUSIEST_NAMES = 25


def _flux_names(rows: Sequence[Record]) -> list[object]:
    """The names on this page the scoring job last found suspicious: fast-flux, DGA-like, re-pointed
    (docs/detection.md)."""
    from yapdns.server.detection.models import NameScore

    names = {r.rrname for r in rows if r.rrtype in ("A", "AAAA")}
    return list(NameScore.objects.filter(suspicious=True, name__in=names)[:50]) if names else []


def search_page(request: HttpRequest) -> HttpResponse:
    """``/search?q=...``: results of one search, one page at a time, or their summary (``view=summary``)."""
    context: dict[str, object] = {
        "types": COMMON_TYPES,
        "evidences": [e.value for e in Evidence],
        "page_sizes": search.PAGE_SIZES,
        "since_presets": search.SINCE_LABELS,
        "sort_keys": search.SORT_KEYS,
        "scan_max": SCAN_MAX,
        "kind_labels": search.KIND_LABELS,
        "form": request.GET,
    }
    status = 200
    try:
        spec = search.parse(request.GET)
        context["spec"] = spec
        if spec.kind == "tag":
            context.update(tag=tagging.clean_tag(spec.api["tag"]), tagged=tagging.tagged(spec.api["tag"]))
        elif not spec.empty:
            refused = charge_session(request)
            if refused:
                return refused
            context.update(_results(request.GET, spec))
    except InvalidQuery as exc:
        context["error"] = str(exc)
        status = 400
    context["sensors"] = store().sensors()[:200]
    return render(request, "dashboard/search.html", context, status=status)


def _results(get: QueryDict, spec: search.SearchRequest) -> dict[str, Any]:
    view = get.get("view") or "records"
    if view not in VIEWS:
        raise InvalidQuery(f"view must be one of {', '.join(VIEWS)}")
    query = spec.record_query()
    whole = msgspec.structs.replace(query, cursor=None)
    context: dict[str, Any] = {
        "view": view,
        "kind_label": search.KIND_LABELS[spec.kind or "name"],
        "exports": {fmt: spec.export_url(fmt) for fmt in search.FORMATS},
        "dnsdbq": dnsdbq_command(spec),
        "records_url": paging.url_with(get, view=None),
        "summary_url": paging.url_with(get, view="summary", cursor=None, prev=None, page=None),
    }
    if view == "summary":
        summary, partial, _ = history.summarized(store(), whole, SCAN_MAX, BUSIEST_NAMES, sightings=True)
        context.update(_summary_view(summary, partial))
    else:
        context.update(_records_view(get, spec, query, _total(whole)))
    if spec.kind == "sample":
        context.update(_sample_questions(spec.api["sample"]))
    return context


def _records_view(
    get: QueryDict, spec: search.SearchRequest, query: RecordQuery, total: tuple[int, bool]
) -> dict[str, Any]:
    size = spec.page_size
    if spec.sort and total[0] > SCAN_MAX:  # the sort reads the first SCAN_MAX records: say so, whatever the total
        total = (SCAN_MAX, False)
    if spec.sort:
        number = paging.page_number(get)
        if (number - 1) * size >= SCAN_MAX:
            raise InvalidQuery(f"a sorted result pages through its first {SCAN_MAX} records; narrow the search")
        ranked = msgspec.structs.replace(query, cursor=None, offset=(number - 1) * size)
        key = spec.sort.removeprefix("-")
        descending = spec.sort.startswith("-")
        page = store().ranked_records(ranked, key, descending, scan_max=SCAN_MAX)  # type: ignore[arg-type]
        pager = paging.ranked_pager(get, size, len(page.rows), page.limited, total)
    else:
        page = store().records(query)
        pager = paging.cursor_pager(get, size, len(page.rows), page.next_cursor if page.limited else None, total)
    return {
        "rows": page.rows,
        "page": page,
        "pager": pager,
        "sorted_whole": bool(spec.sort),
        "contexts": enrichment.record_contexts(store(), page.rows),
        "flux_names": _flux_names(page.rows),
        **_row_tags(page.rows),
    }


def _row_tags(rows: list[Record]) -> dict[str, Any]:
    """The team's tags on the names and the addresses of a page's rows (two queries)."""
    ips = [r.rdata for r in rows if r.rrtype in ("A", "AAAA")]
    names = tagging.tags_for("name", (r.rrname for r in rows))
    return {"name_tags": names, "ip_tags": tagging.tags_for("ip", ips)}


def _total(whole: RecordQuery) -> tuple[int, bool]:
    """The result's size and whether it is exact: from the per-name rollup for an exact name, else counted by the
    key's index up to ``COUNT_MAX``."""
    target = history.rollup_target(whole)
    if target is not None and not target[1]:  # an exact name (a zone's total would cost a pass over its names)
        rolled = store().name_rollup(target[0], top=0, seen_by=False)
        return rolled.records, rolled.exact
    counted = store().count_records(whole, COUNT_MAX + 1)
    return min(counted, COUNT_MAX), counted <= COUNT_MAX


def _summary_view(summary: RecordSummary, days_partial: bool) -> dict[str, Any]:
    return {
        "rows": [],
        "summary": summary,
        "days_partial": days_partial,
        **timeline.summary_tiles(summary),
        "chart": {"activity": timeline.activity_from_days(summary.first_days, summary.last_days)},
    }


SAMPLE_QUESTIONS_SHOWN = 200


def _sample_questions(sha256: str) -> dict[str, object]:
    """The names a sample asked for that did not resolve, and those whose answer was not recorded."""
    query = RecordQuery(sample=sha256, limit=SAMPLE_QUESTIONS_SHOWN)
    negatives, asked = store().negatives(query), store().queries(query)
    return {
        "sample_negatives": negatives.rows,
        "sample_queries": asked.rows,
        "sample_questions_limited": negatives.limited or asked.limited,
    }
