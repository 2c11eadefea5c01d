"""The IP page: its whole history (names over time, the busiest names), the records, the /24 or /48 around it,
who announced it and where (the context history the enrichment worker keeps), notes and tags."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from yapdns.core.errors import InvalidQuery
from yapdns.server.dashboard import correlate, enrichment, history, tagging, timeline
from yapdns.server.dashboard.views.common import charged, problem, store
from yapdns.server.enrichment import services
from yapdns.storage.query import IpRange, RecordQuery
from yapdns.upstream import registry

RECORDS_PAGE = 200


@charged
def ip_page(request: HttpRequest, addr: str) -> HttpResponse:
    """``/ip/<address>``: the names that pointed at one address, and its neighbourhood."""
    try:
        ip = str(ipaddress.ip_address(addr.strip()))
    except ValueError:
        return problem(request, 400, "Not an IP address", f"{addr[:80]!r} is not an IPv4 or IPv6 address.")
    db = store()
    try:
        page = db.records(
            RecordQuery(rdata_ip=IpRange.parse(ip), limit=RECORDS_PAGE, cursor=request.GET.get("cursor") or None)
        )
    except InvalidQuery as exc:
        return problem(request, 400, "Bad request", str(exc))
    records = list(page.rows)
    network = correlate.network_of(ip)
    whole = history.history(store(), RecordQuery(rdata_ip=IpRange.parse(ip)))
    known = services.contexts(db, [ip]).get(ip, [])
    context = {
        "ip": ip,
        "version": ipaddress.ip_address(ip).version,
        "network": str(network),
        "page": page,
        "records": records,
        **whole.context(timeline.by_name),
        "neighbours": correlate.neighbours(db, ip),
        "notes": tagging.for_subject("ip", ip),
        "ip_context": enrichment.IpContext.of(services.as_of(known)),
        "context_history": enrichment.history(known),
        "attributions": enrichment.attributions(known),
        "contexts": services.record_contexts(db, records),
        "upstream_connectors": registry.configured_names(),
        "search_network": f"{reverse('dashboard:search')}?{urlencode({'q': str(network)})}",
        "search_ip": f"{reverse('dashboard:search')}?{urlencode({'q': ip})}",
        "pivot_url": f"{reverse('dashboard:pivot')}?{urlencode({'q': ip})}",
    }
    return render(request, "dashboard/ip.html", context)
