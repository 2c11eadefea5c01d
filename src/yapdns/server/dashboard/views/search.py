"""The search page: one box, filters, a sortable cursor-paged table and export links."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.core.model import Evidence
from yapdns.server.dashboard import search
from yapdns.server.dashboard.views.common import store

COMMON_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA", "PTR", "SRV", "HTTPS", "SVCB", "CAA", "DS", "DNSKEY")


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
            )
    except InvalidQuery as exc:
        context["error"] = str(exc)
        status = 400
    context["sensors"] = store().sensors()[:200]
    return render(request, "dashboard/search.html", context, status=status)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
