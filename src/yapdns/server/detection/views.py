"""The detection API: reading indicator files into watchlist entries.

``POST /api/v1/indicators/parse?format=lines|csv|stix|misp`` reads a body
and answers the indicators found and what was skipped, without storing
anything (a dry run of a watchlist import).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from yapdns.server.detection import indicators
from yapdns.server.detection.tlp import UnknownTlp, parse
from yapdns.server.security import Principal, api_view, error

READERS: dict[str, Callable[[str, str | None], Iterator[indicators.Read]]] = {
    "lines": lambda text, tlp: indicators.read_lines(text, tlp=tlp),
    "csv": indicators.read_csv,
    "stix": indicators.read_stix,
    "misp": indicators.read_misp,
}
BODY_MAX = 2 * 1024 * 1024


def read_upload(request: HttpRequest) -> tuple[list[indicators.IndicatorSpec], list[indicators.Skipped]]:
    """The indicators of a request body in ``?format=`` (raises ``BadIndicator``/``UnknownTlp`` on bad input)."""
    fmt = request.GET.get("format", "lines")
    reader = READERS.get(fmt)
    if reader is None:
        raise indicators.BadIndicator(f"format must be one of {', '.join(READERS)}")
    if len(request.body) > BODY_MAX:
        raise indicators.BadIndicator(f"the file is larger than {BODY_MAX} bytes")
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise indicators.BadIndicator("the file must be UTF-8 text") from None
    found: list[indicators.IndicatorSpec] = []
    skipped: list[indicators.Skipped] = []
    for item in reader(text, parse(request.GET.get("tlp"))):
        if isinstance(item, indicators.Skipped):
            skipped.append(item)
        else:
            found.append(item)
    return found, skipped


@api_view("query", methods=("POST",))
def parse_indicators(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``POST /api/v1/indicators/parse``: what a watchlist import of this body would add."""
    try:
        found, skipped = read_upload(request)
    except (indicators.BadIndicator, UnknownTlp) as exc:
        return error(400, str(exc))
    return JsonResponse(
        {
            "indicators": [_spec_json(s) for s in found],
            "skipped": [{"where": s.where, "reason": s.reason} for s in skipped],
        }
    )


def _spec_json(spec: indicators.IndicatorSpec) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "value": spec.value,
        "label": spec.label,
        "tlp": spec.tlp,
        "expires_at": spec.expires_at.isoformat() if spec.expires_at else None,
    }
