"""HTTP answers for the STIX 2.1 and MISP exports of records (search results, a record, a name page, alerts).

``?format=stix`` answers a STIX 2.1 bundle (``stix.py``), ``?format=misp``
a MISP event (``misp.py``); ``?tlp=`` marks either. Both are built in
memory, so callers bound the records they pass (``EXPORT_MAX``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse

from yapdns.core.model import Record
from yapdns.server.detection import misp, stix

EXPORT_FORMATS = frozenset({"stix", "misp"})
EXPORT_MAX = 10_000


def export_response(records: Iterable[Record], fmt: str, tlp: str | None, title: str) -> HttpResponse:
    """``records`` as a downloadable STIX 2.1 bundle or MISP event JSON."""
    if fmt == "stix":
        bundle, skipped = stix.records_bundle(records, tlp)
        response = HttpResponse(bundle.serialize(), content_type="application/stix+json;version=2.1")
        response["X-YAPDNS-Skipped"] = str(skipped)
        filename = "yapdns-stix.json"
    else:
        response = HttpResponse(misp.records_event(records, title, tlp).to_json(), content_type="application/json")
        filename = "yapdns-misp.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
