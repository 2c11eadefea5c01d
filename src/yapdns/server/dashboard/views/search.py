"""The search page: one box, filters, a sortable cursor-paged table and export links."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence, Record
from yapdns.server.dashboard import search
from yapdns.server.dashboard.views.common import store
from yapdns.storage.query import RecordQuery

COMMON_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA", "PTR", "SRV", "HTTPS", "SVCB", "CAA", "DS", "DNSKEY")


def _flux_names(rows: Sequence[Record]) -> list[object]:
    """The names on this page the scoring job last scored as fast-flux (docs/detection.md)."""
    from yapdns.server.detection.models import NameScore

    names = {r.rrname for r in rows if r.rrtype in ("A", "AAAA")}
    return list(NameScore.objects.filter(flux=True, name__in=names)[:50]) if names else []


def search_page(request: HttpRequest) -> HttpResponse:
    """``/search?q=...``: results of one search, one page at a time."""
    context: dict[str, object] = {
        "types": COMMON_TYPES,
        "evidences": [e.value for e in Evidence],
        "page_sizes": search.PAGE_SIZES,
        "kind_labels": search.KIND_LABELS,
        "form": request.GET,
    }
    status = 200
    try:
        spec = search.parse(request.GET)
        context["spec"] = spec
        if not spec.empty:
            page = store().records(spec.record_query())
            context.update(
                rows=search.sort_rows(list(page.rows), spec.sort),
                page=page,
                kind_label=search.KIND_LABELS[spec.kind or "name"],
                exports={fmt: spec.export_url(fmt) for fmt in search.FORMATS},
                page_number=_page_number(request),
                flux_names=_flux_names(page.rows),
            )
            if spec.kind == "sample":
                context.update(_sample_questions(spec.api["sample"]))
    except InvalidQuery as exc:
        context["error"] = str(exc)
        status = 400
    context["sensors"] = store().sensors()[:200]
    return render(request, "dashboard/search.html", context, status=status)


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


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
