"""The domain page: the name's whole history, its zone below, records, its addresses per AS and country,
subdomains, related names, negatives, sensors, samples, notes and tags."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.core.names import to_unicode
from yapdns.server.dashboard import correlate, history, tagging, timeline
from yapdns.server.dashboard.views.common import charged, problem, store
from yapdns.server.detection.signals import name_signals
from yapdns.server.enrichment import services as enrichment
from yapdns.storage.query import NameMatch, RecordQuery
from yapdns.upstream import registry

RECORDS_PAGE = 200
NEGATIVES_MAX = 50
BUSIEST_CHILDREN = 10


@charged
def domain_page(request: HttpRequest, name: str) -> HttpResponse:
    """``/domain/<name>``: everything the store knows about one owner name, and about the zone below it."""
    try:
        match = NameMatch.parse(name)
        if match.kind != "exact":
            raise InvalidQuery("a domain page needs an exact name; use the search for wildcards")
        query = RecordQuery(rrname=match, limit=RECORDS_PAGE, cursor=request.GET.get("cursor") or None)
        db = store()
        page = db.records(query)
        subdomains = correlate.subdomain_page(db, match.name, request.GET.get("sub") or None)
    except InvalidQuery as exc:
        return problem(request, 400, "Not a domain name", str(exc))
    fqdn = match.name
    own = history.history(db, query)
    below = db.name_rollup(fqdn, below=True, top=BUSIEST_CHILDREN, seen_by=False)
    negatives = [
        *db.negatives(RecordQuery(rrname=match, limit=NEGATIVES_MAX)).rows,
        *db.negatives(RecordQuery(rrname=NameMatch("suffix", fqdn), limit=NEGATIVES_MAX)).rows,
    ]
    signals = name_signals(db, fqdn)
    context = {
        "name": fqdn,
        "ulabel": to_unicode(fqdn),
        "page": page,
        "records": page.rows,
        **own.context(timeline.by_rdata),
        "zone": below,
        "is_zone": own.summary.records == 0 and below.records > 0,
        "subdomains": subdomains,
        "related": correlate.related_names(db, fqdn, own.recent),
        "negatives": sorted(negatives, key=lambda n: -n.time_last)[:NEGATIVES_MAX],
        "notes": tagging.for_subject("name", fqdn),
        "provenance": own.seen_by if own.seen_by is not None else db.name_provenance(fqdn),
        "context": enrichment.breakdown(db, page.rows),
        "contexts": enrichment.record_contexts(db, page.rows),
        "upstream_connectors": registry.configured_names(),
        "samples": db.name_samples(fqdn),
        "search_exact": _search(fqdn),
        "search_subdomains": _search(f"*.{fqdn}"),
        "search_rdata": _search(f"rdata:{fqdn}"),
        "pivot_url": f"{reverse('dashboard:pivot')}?{urlencode({'q': fqdn})}",
        "flux": signals.flux,
        "signals": signals,
        "export_stix": _export(fqdn, "stix"),
        "export_misp": _export(fqdn, "misp"),
    }
    return render(request, "dashboard/domain.html", context)


def _export(fqdn: str, fmt: str) -> str:
    """The name's records as a STIX 2.1 bundle or MISP event (docs/detection.md)."""
    return f"{reverse('records')}?{urlencode({'rrname': fqdn, 'format': fmt, 'limit': 1000})}"


def _search(text: str) -> str:
    return f"{reverse('dashboard:search')}?{urlencode({'q': text})}"
