"""The domain page: records, timeline, activity, subdomains, related names, negatives, sensors, samples."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.core.names import to_unicode
from yapdns.server.dashboard import correlate, timeline
from yapdns.server.dashboard.views.common import problem, store
from yapdns.server.detection.flux import flux_score
from yapdns.storage.query import NameMatch, RecordQuery

RECORDS_PAGE = 200
NEGATIVES_MAX = 50


def domain_page(request: HttpRequest, name: str) -> HttpResponse:
    """``/domain/<name>``: everything the store knows about one owner name."""
    try:
        match = NameMatch.parse(name)
        if match.kind != "exact":
            raise InvalidQuery("a domain page needs an exact name; use the search for wildcards")
        query = RecordQuery(rrname=match, limit=RECORDS_PAGE, cursor=request.GET.get("cursor") or None)
        db = store()
        page = db.records(query)
    except InvalidQuery as exc:
        return problem(request, 400, "Not a domain name", str(exc))
    fqdn = match.name
    records = list(page.rows)
    negatives = [
        *db.negatives(RecordQuery(rrname=match, limit=NEGATIVES_MAX)).rows,
        *db.negatives(RecordQuery(rrname=NameMatch("suffix", fqdn), limit=NEGATIVES_MAX)).rows,
    ]
    context = {
        "name": fqdn,
        "ulabel": to_unicode(fqdn),
        "page": page,
        "records": records,
        "types": sorted({r.rrtype for r in records}),
        **timeline.seen_tiles(records),
        "total_count": sum(r.count for r in records),
        "chart": {
            "timeline": timeline.gantt_rows(records, timeline.by_rdata),
            "activity": timeline.activity(records),
        },
        "subdomains": correlate.subdomain_names(db, fqdn),
        "related": correlate.related_names(db, fqdn, records),
        "negatives": sorted(negatives, key=lambda n: -n.time_last)[:NEGATIVES_MAX],
        "provenance": db.name_provenance(fqdn),
        "samples": db.name_samples(fqdn),
        "search_exact": _search(fqdn),
        "search_subdomains": _search(f"*.{fqdn}"),
        "search_rdata": _search(f"rdata:{fqdn}"),
        "pivot_url": f"{reverse('dashboard:pivot')}?{urlencode({'q': fqdn})}",
        "flux": flux_score(db, fqdn),
        "export_stix": _export(fqdn, "stix"),
        "export_misp": _export(fqdn, "misp"),
    }
    return render(request, "dashboard/domain.html", context)


def _export(fqdn: str, fmt: str) -> str:
    """The name's records as a STIX 2.1 bundle or MISP event (docs/detection.md)."""
    return f"{reverse('records')}?{urlencode({'rrname': fqdn, 'format': fmt, 'limit': 1000})}"


def _search(text: str) -> str:
    return f"{reverse('dashboard:search')}?{urlencode({'q': text})}"
