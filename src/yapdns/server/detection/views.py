"""The detection API: watchlist entries (one at a time or from files), alerts, and their exports.

Reads need a user (token or session); changes need the analyst or admin
role. Bad input is a 400 saying what to fix; an import reports the
indicators it skipped and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from yapdns.core.model import Record
from yapdns.server.accounts.roles import can_manage_sensors
from yapdns.server.detection import delivery, indicators, services
from yapdns.server.detection.export import EXPORT_FORMATS, export_response
from yapdns.server.detection.models import Alert, WatchlistEntry
from yapdns.server.detection.tlp import UnknownTlp, parse
from yapdns.server.security import Principal, api_view, error

READERS: dict[str, Callable[[str, str | None], Iterator[indicators.Read]]] = {
    "lines": lambda text, tlp: indicators.read_lines(text, tlp=tlp),
    "csv": indicators.read_csv,
    "stix": indicators.read_stix,
    "misp": indicators.read_misp,
}
BODY_MAX = 2 * 1024 * 1024
LIST_MAX = 1000
ALERT_FILTERS = frozenset({"status", "entry", "q", "assignee"})
BadInput = (indicators.BadIndicator, UnknownTlp, msgspec.DecodeError, ValueError)


Upload = tuple[list[indicators.IndicatorSpec], list[indicators.Skipped]]


def read_upload(body: bytes, fmt: str, tlp: str | None) -> Upload:
    """The indicators of an uploaded file in ``fmt`` (raises ``BadIndicator``/``UnknownTlp`` on bad input)."""
    reader = READERS.get(fmt)
    if reader is None:
        raise indicators.BadIndicator(f"format must be one of {', '.join(READERS)}")
    if len(body) > BODY_MAX:
        raise indicators.BadIndicator(f"the file is larger than {BODY_MAX} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise indicators.BadIndicator("the file must be UTF-8 text") from None
    found: list[indicators.IndicatorSpec] = []
    skipped: list[indicators.Skipped] = []
    for item in reader(text, parse(tlp)):
        if isinstance(item, indicators.Skipped):
            skipped.append(item)
        else:
            found.append(item)
    return found, skipped


def object_id(text: str) -> int:
    """A path's object id, or 0 (no object) when it is not a small decimal number."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


def _content_checked(request: HttpRequest, fmt: str) -> None:
    """Lines and CSV come as text, STIX and MISP as JSON (or text)."""
    media = (request.content_type or "").lower()
    if fmt in ("lines", "csv") and media == "application/json":
        raise indicators.BadIndicator(f"send {fmt} as text/plain or text/csv, not JSON")


def _writer(principal: Principal) -> User | None:
    """The user allowed to change watchlists and alerts, or None."""
    user = principal.user
    return user if user is not None and can_manage_sensors(user) else None


def _skipped_json(skipped: list[indicators.Skipped]) -> list[dict[str, str]]:
    return [{"where": s.where, "reason": s.reason} for s in skipped]


@api_view("query", methods=("POST",))
def parse_indicators(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``POST /api/v1/indicators/parse``: what a watchlist import of this body would add."""
    try:
        _content_checked(request, request.GET.get("format", "lines"))
        found, skipped = read_upload(request.body, request.GET.get("format", "lines"), request.GET.get("tlp"))
    except BadInput as exc:
        return error(400, str(exc))
    return JsonResponse({"indicators": [_spec_json(s) for s in found], "skipped": _skipped_json(skipped)})


def _spec_json(spec: indicators.IndicatorSpec) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "value": spec.value,
        "label": spec.label,
        "tlp": spec.tlp,
        "expires_at": spec.expires_at.isoformat() if spec.expires_at else None,
    }


def entry_json(entry: WatchlistEntry) -> dict[str, object]:
    """One watchlist entry as the API shows it."""
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "value": entry.value,
        "label": entry.label,
        "owner": entry.owner.username if entry.owner else None,
        "tlp": entry.tlp or None,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "source": entry.source,
        "created_at": entry.created_at.isoformat(),
        "hunted_at": entry.hunted_at.isoformat() if entry.hunted_at else None,
        "hunt_found": entry.hunt_found,
    }


class _NewEntry(msgspec.Struct, forbid_unknown_fields=True):
    value: str
    kind: str | None = None
    label: str = ""
    tlp: str | None = None
    expires: str | None = None


@api_view("query", methods=("GET", "POST"))
def watchlist(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/watchlist``: the entries. ``POST {"value", "kind"?, "label"?, "tlp"?, "expires"?}``: add one
    (the kind guessed from the value's form when not given)."""
    if request.method == "GET":
        rows = WatchlistEntry.objects.select_related("owner")[:LIST_MAX]
        return JsonResponse({"entries": [entry_json(e) for e in rows]})
    user = _writer(principal)
    if user is None:
        return error(403, "changing watchlists needs the analyst or admin role")
    try:
        new = msgspec.json.decode(request.body, type=_NewEntry)
        spec = (
            indicators.check(new.kind, new.value, new.label, new.tlp, new.expires)
            if new.kind
            else indicators.guess(new.value, new.label, new.tlp, new.expires)
        )
    except BadInput as exc:
        return error(400, f"bad watchlist entry: {exc}")
    entry = services.add_entries([spec], user, "api")[0]
    return JsonResponse({"entry": entry_json(entry)}, status=201)


@api_view("query", methods=("POST",))
def watchlist_import(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``POST /api/v1/watchlist/import?format=lines|csv|stix|misp[&tlp=]``: add every indicator of a file."""
    user = _writer(principal)
    if user is None:
        return error(403, "changing watchlists needs the analyst or admin role")
    fmt = request.GET.get("format", "lines")
    try:
        _content_checked(request, fmt)
        found, skipped = read_upload(request.body, fmt, request.GET.get("tlp"))
    except BadInput as exc:
        return error(400, str(exc))
    created = services.add_entries(found, user, fmt)
    return JsonResponse({"added": len(created), "ids": [e.pk for e in created], "skipped": _skipped_json(skipped)})


@api_view("query", methods=("POST",))
def evidence_import(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``POST /api/v1/evidence/import?format=stix|misp[&sensor=NAME]``: store the resolutions of a STIX 2.1
    bundle or a MISP event as evidence (``imported``, sensor ``import/<format>``, or ``NAME/<format>`` for a
    registered, active sensor NAME); a file sent again stores nothing twice."""
    from django.core.exceptions import RequestDataTooBig

    from yapdns.server.detection.evidence import UPLOAD_MAX, BadEvidence, import_evidence, upload_sensor

    if _writer(principal) is None:
        return error(403, "importing evidence needs the analyst or admin role")
    unknown = sorted(set(request.GET) - {"format", "sensor"})
    if unknown:
        return error(400, f"unknown parameter {unknown[0]!r}; give format=stix or format=misp (and sensor=NAME)")
    try:
        sensor = upload_sensor(request.GET.get("sensor"))
        report = import_evidence(request.GET.get("format", ""), request.body, sensor)
    except RequestDataTooBig:
        return error(413, f"the file is larger than {UPLOAD_MAX} bytes; use `yapdns import` for it")
    except BadEvidence as exc:
        return error(exc.status, str(exc))
    return JsonResponse(report.as_json())


@api_view("query", methods=("POST",))
def watchlist_delete(request: HttpRequest, principal: Principal, entry_id: str) -> HttpResponseBase:
    """``POST /api/v1/watchlist/<id>/delete``: remove an entry and its alerts."""
    if _writer(principal) is None:
        return error(403, "changing watchlists needs the analyst or admin role")
    if not (object_id(entry_id) and services.delete_entry(object_id(entry_id))):
        return error(404, "no such watchlist entry")
    return JsonResponse({"deleted": entry_id})


def alert_json(alert: Alert) -> dict[str, Any]:
    """One alert with its workflow state."""
    return {
        **delivery.alert_json(alert),
        "status": alert.status,
        "assignee": alert.assignee.username if alert.assignee else None,
        "comments": [
            {"author": c.author.username if c.author else None, "text": c.text, "at": c.created_at.isoformat()}
            for c in alert.comments.all()
        ],
    }


def alert_rows(params: Any) -> Any:
    """Alerts filtered by ``status``, ``entry`` (id), ``q`` (a substring of the name) and ``assignee``."""
    rows = Alert.objects.select_related("entry", "assignee").prefetch_related("comments__author")
    if params.get("status"):
        rows = rows.filter(status=params["status"])
    if params.get("entry", "").isdigit():
        rows = rows.filter(entry_id=int(params["entry"]))
    if params.get("q"):
        rows = rows.filter(rrname__icontains=params["q"].strip().lower()[:200])
    if params.get("assignee"):
        rows = rows.filter(assignee__username=params["assignee"])
    return rows


@api_view("query")
def alerts(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/alerts?status=&entry=&q=&assignee=``: the latest alerts first (at most 1000)."""
    unknown = sorted(set(request.GET) - ALERT_FILTERS)
    if unknown:
        return error(400, f"unknown parameter {unknown[0]!r}; filters are {', '.join(sorted(ALERT_FILTERS))}")
    status, entry = request.GET.get("status", ""), request.GET.get("entry", "")
    if status and status not in services.STATUSES:
        return error(400, f"status must be one of {', '.join(services.STATUSES)}")
    if entry and not (entry.isascii() and entry.isdigit()):
        return error(400, "entry must be a watchlist entry id")
    return JsonResponse({"alerts": [alert_json(a) for a in alert_rows(request.GET)[:LIST_MAX]]})


class _AlertChange(msgspec.Struct, forbid_unknown_fields=True):
    status: str | None = None
    assignee: str | None = None
    unassign: bool = False
    comment: str = ""


@api_view("query", methods=("GET", "POST"))
def alert_detail(request: HttpRequest, principal: Principal, alert_id: str) -> HttpResponseBase:
    """``GET /api/v1/alerts/<id>``; ``POST`` ``{"status"?, "assignee"?, "unassign"?, "comment"?}`` changes it."""
    alert = alert_rows({}).filter(pk=object_id(alert_id)).first()
    if alert is None:
        return error(404, "no such alert")
    if request.method == "POST":
        user = _writer(principal)
        if user is None:
            return error(403, "working on alerts needs the analyst or admin role")
        try:
            change = msgspec.json.decode(request.body, type=_AlertChange)
            assignee = User.objects.filter(username=change.assignee).first() if change.assignee else None
            if change.assignee and assignee is None:
                return error(400, f"no user {change.assignee!r}")
            assign = change.unassign or assignee is not None
            services.update_alert(
                alert, user, status=change.status, assign=assign, assignee=assignee, comment=change.comment
            )
        except BadInput as exc:
            return error(400, f"bad alert change: {exc}")
        alert = alert_rows({}).get(pk=alert.pk)
    return JsonResponse({"alert": alert_json(alert)})


@api_view("query")
def alert_export(request: HttpRequest, principal: Principal, alert_id: str) -> HttpResponseBase:
    """``GET /api/v1/alerts/<id>/export?format=stix|misp``: the matched record, marked with the entry's TLP."""
    fmt = request.GET.get("format", "stix")
    if fmt not in EXPORT_FORMATS:
        return error(400, "format must be stix or misp")
    alert = Alert.objects.select_related("entry").filter(pk=object_id(alert_id)).first()
    if alert is None:
        return error(404, "no such alert")
    record = Record(
        rrname=alert.rrname,
        rrtype=alert.rrtype,
        rdata=alert.rdata,
        time_first=alert.time_first,
        time_last=alert.time_last,
        count=alert.count,
    )
    title = f"YAPDNS alert {alert.pk}: {alert.entry.kind} {alert.entry.value} matched {alert.rrname}"[:200]
    return export_response([record], fmt, alert.entry.tlp or None, title)


def _exact_name(text: str) -> str:
    """One exact owner name from a request (``InvalidQuery`` for wildcards and bad names)."""
    from yapdns.core.errors import InvalidQuery
    from yapdns.storage.query import NameMatch

    match = NameMatch.parse(text)
    if match.kind != "exact":
        raise InvalidQuery("name must be one exact name")
    return match.name


@api_view("query")
def flux_view(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/flux?name=``: a name's fast-flux score now, with its parts (docs/detection.md)."""
    from yapdns.core.errors import InvalidQuery
    from yapdns.server.detection.flux import flux_score
    from yapdns.server.store import get_store

    unknown = sorted(set(request.GET) - {"name"})
    if unknown:
        return error(400, f"unknown parameter {unknown[0]!r}; give name=")
    try:
        name = _exact_name(request.GET.get("name", ""))
    except InvalidQuery as exc:
        return error(400, str(exc))
    return JsonResponse(flux_score(get_store(), name).as_json())


@api_view("query")
def signals_view(request: HttpRequest, principal: Principal, name: str) -> HttpResponseBase:
    """``GET /api/v1/signals/<name>``: every signal of a name now (flux, domain age, lexical, re-pointing)."""
    from yapdns.core.errors import InvalidQuery
    from yapdns.server.detection.signals import name_signals
    from yapdns.server.store import get_store

    if request.GET:
        return error(400, f"unknown parameter {sorted(request.GET)[0]!r}; the name is in the path")
    try:
        fqdn = _exact_name(name)
    except InvalidQuery as exc:
        return error(400, str(exc))
    return JsonResponse(name_signals(get_store(), fqdn).as_json())


SIGNAL_FILTERS = ("flux", "dga", "repointed", "young")


def suspicious_rows(signal: str = "") -> Any:
    """Kept scores of suspicious names (flux, DGA-like or re-pointed), or of those with one ``signal``."""
    from yapdns.server.detection.models import NameScore

    return NameScore.objects.filter(**{signal or "suspicious": True})


@api_view("query")
def suspicious(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    """``GET /api/v1/suspicious[?signal=flux|dga|repointed|young]``: names the scoring job last found suspicious,
    highest flux score first."""
    unknown = sorted(set(request.GET) - {"signal"})
    if unknown:
        return error(400, f"unknown parameter {unknown[0]!r}; the filter is signal=")
    signal = request.GET.get("signal", "")
    if signal and signal not in SIGNAL_FILTERS:
        return error(400, f"signal must be one of {', '.join(SIGNAL_FILTERS)}")
    rows = suspicious_rows(signal)[:LIST_MAX]
    return JsonResponse({"names": [score_json(r) for r in rows]})


def score_json(row: Any) -> dict[str, object]:
    """A kept score as the API shows it."""
    return {
        "name": row.name,
        "score": round(row.score, 2),
        "flux": row.flux,
        "distinct_addresses": row.n_addresses,
        "distinct_asns": row.n_networks,
        "asn_basis": row.asn_basis,
        "ns_records": row.n_ns,
        "ttl_min": row.ttl_min,
        "domain_age": row.domain_age,
        "young": row.young,
        "entropy": row.entropy,
        "bigram_score": row.bigram,
        "dga_like": row.dga,
        "repointed": row.repointed,
        "new_as": row.new_as.splitlines(),
        "computed_at": row.computed_at.isoformat(),
    }
