"""One record: its aggregate, who saw it (per sensor, evidence and source) and linked samples."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yapdns.core.errors import InvalidQuery
from yapdns.server.dashboard.views.common import charged, problem, store
from yapdns.server.query import params
from yapdns.storage.query import NameMatch, RecordQuery, TypeFilter

SCAN_MAX = 100_000  # records of one name and type streamed (in pages of 1,000) until the rdata is found


@charged
def record_page(request: HttpRequest) -> HttpResponse:
    """``/record?rrname=&rrtype=&rdata=``."""
    try:
        rrname, rrtype, rdata = params.record_key(request.GET)
        db = store()
        query = RecordQuery(rrname=NameMatch("exact", rrname), types=TypeFilter.parse(rrtype), limit=SCAN_MAX)
        found = next((r for r in db.iter_records(query) if r.rdata == rdata), None)
    except InvalidQuery as exc:
        return problem(request, 400, "Not a record", str(exc))
    if found is None:
        return problem(request, 404, "No such record", "The store has no record with that name, type and rdata.")
    context = {
        "record": found,
        "provenance": db.provenance(rrname, rrtype, rdata),
        "samples": db.samples(rrname, rrtype, rdata),
    }
    return render(request, "dashboard/record.html", context)
